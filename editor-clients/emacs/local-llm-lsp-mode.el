;;; local-llm-lsp-mode.el --- local-llm-lsp through lsp-mode  -*- lexical-binding: t; -*-

;; Paste into your init file (or `load' this file).  Needs lsp-mode 9.0.1+ (MELPA) for inline
;; completion (`lsp-inline-completion-mode': ghost text after an idle delay).  local-llm-lsp runs
;; as an add-on next to your usual language server.  Fixes and "Explain this code" are code
;; actions (s-l a a, or M-x lsp-execute-code-action).

;;; Code:

(require 'lsp-mode)

(defgroup local-llm nil "local-llm-lsp: completions from a local model." :group 'tools)

(defcustom local-llm-command '("local-llm-lsp")
  "The server command line, e.g. (\"~/.venvs/llm/bin/local-llm-lsp\" \"--log-file\" \"/tmp/llm.log\")."
  :type '(repeat string))

(defcustom local-llm-init-options '(:modelPath "" :maxTokens 64 :latencyTargetMs 1000)
  "initializationOptions for the server (docs/PROTOCOL.md).  Empty :modelPath: the bundled model."
  :type 'plist)

(defvar local-llm-status nil "The last `localLlm/status' state, shown in the mode line.")

(defun local-llm--init-options ()
  (let ((opts (copy-sequence local-llm-init-options)))
    (when (and (plist-get opts :modelPath) (not (string-empty-p (plist-get opts :modelPath))))
      (setq opts (plist-put opts :modelPath (expand-file-name (plist-get opts :modelPath)))))
    ;; This file shows explanations itself (see `local-llm-explain').
    (plist-put opts :clientShowsExplanations t)))

(defun local-llm--on-status (_workspace params)
  (setq local-llm-status (lsp-get params :state))
  (when (equal local-llm-status "error")
    (lsp--warn "local-llm: %s" (lsp-get params :message)))
  (force-mode-line-update t))

(defun local-llm--show-explanation (markdown)
  (with-current-buffer (get-buffer-create "*local-llm explain*")
    (let ((inhibit-read-only t))
      (erase-buffer)
      (insert (if (stringp markdown) markdown "(no explanation)"))
      (if (fboundp 'gfm-view-mode) (gfm-view-mode) (special-mode))
      (goto-char (point-min)))
    (display-buffer (current-buffer))))

(defun local-llm--explain-action (action)
  "Client side of the \"Explain this code\" code action: run it and show the answer."
  (lsp-request-async "workspace/executeCommand"
                     (list :command "localLlm.explain" :arguments (lsp:command-arguments? action))
                     #'local-llm--show-explanation
                     :mode 'detached))

(defun local-llm-explain (beg end)
  "Explain the region (or the current line) with the local model, in a *local-llm explain* buffer."
  (interactive (if (use-region-p) (list (region-beginning) (region-end))
                 (list (line-beginning-position) (line-end-position))))
  (lsp-request-async "workspace/executeCommand"
                     (list :command "localLlm.explain"
                           :arguments (vector (list :uri (lsp--buffer-uri)
                                                    :range (lsp--region-to-range beg end))))
                     #'local-llm--show-explanation
                     :mode 'detached))

(lsp-register-client
 (make-lsp-client
  :new-connection (lsp-stdio-connection
                   (lambda () (cons (expand-file-name (car local-llm-command)) (cdr local-llm-command))))
  :activation-fn (lsp-activate-on "python" "javascript" "typescript" "typescriptreact"
                                  "go" "rust" "c" "cpp" "java")
  :server-id 'local-llm
  :add-on? t
  :priority -5
  :initialization-options #'local-llm--init-options
  :notification-handlers (ht ("localLlm/status" #'local-llm--on-status))
  :action-handlers (ht ("localLlm.explain" #'local-llm--explain-action))))

;; Ghost text: lsp-mode turns `lsp-inline-completion-mode' on by itself for servers with
;; inline completion when `lsp-inline-completion-enable' is t (its default).  Wait less than
;; the default 2 s before asking:
(setq lsp-inline-completion-idle-delay 0.4)

;; Accept / next / cancel while a suggestion is shown (`lsp-inline-completion-active-map'):
;; RET accepts, TAB or M-n shows the next, M-p the previous, C-g cancels.  Ask explicitly:
(with-eval-after-load 'lsp-mode
  (define-key lsp-mode-map (kbd "M-\\") #'lsp-inline-completion-display))

(add-to-list 'mode-line-misc-info '(local-llm-status (" LLM:" local-llm-status " ")))

(provide 'local-llm-lsp-mode)
;;; local-llm-lsp-mode.el ends here
