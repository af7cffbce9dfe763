;;; local-llm-eglot.el --- local-llm-lsp through Eglot  -*- lexical-binding: t; -*-

;; Paste into your init file (or `load' this file).  Needs Emacs 29+ (Eglot built in) or Eglot
;; from GNU ELPA.  Eglot has no inline (ghost-text) completion: the model's suggestion is one item
;; of `completion-at-point' (Corfu, Company or the *Completions* buffer).  Fixes and "Explain this
;; code" are code actions (M-x eglot-code-actions).  Eglot runs one server per buffer, so in
;; these modes local-llm-lsp replaces your usual language server; use lsp-mode
;; (local-llm-lsp-mode.el) to run both side by side.

;;; Code:

(require 'eglot)

(defgroup local-llm nil "local-llm-lsp: completions from a local model." :group 'tools)

(defcustom local-llm-command '("local-llm-lsp")
  "The server command line, e.g. (\"~/.venvs/llm/bin/local-llm-lsp\" \"--log-file\" \"/tmp/llm.log\")."
  :type '(repeat string))

(defcustom local-llm-init-options '(:modelPath "" :maxTokens 64 :latencyTargetMs 1000)
  "initializationOptions for the server (docs/PROTOCOL.md).  Empty :modelPath: the bundled model."
  :type 'plist)

(defvar local-llm-modes
  '(python-mode python-ts-mode js-mode js-ts-mode typescript-mode typescript-ts-mode tsx-ts-mode
    go-mode go-ts-mode rust-mode rust-ts-mode c-mode c-ts-mode c++-mode c++-ts-mode
    java-mode java-ts-mode)
  "Major modes that use local-llm-lsp.")

(defvar local-llm-status nil "The last `localLlm/status' state, shown in the mode line.")

(defun local-llm--contact (&rest _)
  "Eglot contact: the command with ~ expanded, plus the initialization options."
  (append (mapcar #'expand-file-name (list (car local-llm-command)))
          (cdr local-llm-command)
          (list :initializationOptions
                (let ((opts (copy-sequence local-llm-init-options)))
                  (when (and (plist-get opts :modelPath) (not (string-empty-p (plist-get opts :modelPath))))
                    (setq opts (plist-put opts :modelPath (expand-file-name (plist-get opts :modelPath)))))
                  opts))))

;; Ours first: `eglot-server-programs' is searched in order.
(add-to-list 'eglot-server-programs (cons local-llm-modes #'local-llm--contact))

;; Model state from the server (loading / ready / error / disabled).
(cl-defmethod eglot-handle-notification (_server (_method (eql localLlm/status)) &key state message &allow-other-keys)
  (setq local-llm-status state)
  (when (and (equal state "error") message)
    (message "local-llm: %s" message))
  (force-mode-line-update t))

(add-to-list 'mode-line-misc-info '(local-llm-status (" LLM:" local-llm-status " ")))

(defun local-llm-explain (beg end)
  "Explain the region (or the current line) with the local model, in a *local-llm explain* buffer."
  (interactive (if (use-region-p) (list (region-beginning) (region-end))
                 (list (line-beginning-position) (line-end-position))))
  (let* ((server (eglot--current-server-or-lose))
         (markdown (jsonrpc-request
                    server :workspace/executeCommand
                    `(:command "localLlm.explain"
                      :arguments [(:uri ,(eglot--path-to-uri (buffer-file-name))
                                   :range (:start ,(eglot--pos-to-lsp-position beg)
                                           :end ,(eglot--pos-to-lsp-position end)))])
                    :timeout 120)))
    (with-current-buffer (get-buffer-create "*local-llm explain*")
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert (if (stringp markdown) markdown "(no explanation)"))
        (if (fboundp 'gfm-view-mode) (gfm-view-mode) (special-mode))
        (goto-char (point-min)))
      (display-buffer (current-buffer)))))

;; Start Eglot in those modes automatically (remove if you prefer M-x eglot).
(dolist (mode local-llm-modes)
  (add-hook (intern (format "%s-hook" mode)) #'eglot-ensure))

(provide 'local-llm-eglot)
;;; local-llm-eglot.el ends here
