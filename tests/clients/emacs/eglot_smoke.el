;;; eglot_smoke.el --- editor-clients/emacs/local-llm-eglot.el against the real server  -*- lexical-binding: t; -*-
;; Run by tests/clients/test_emacs.py: emacs -Q --batch -l eglot_smoke.el
;; Environment: LOCAL_LLM_ELISP (the config file), LOCAL_LLM_CMD (JSON list), LOCAL_LLM_MODEL,
;; LOCAL_LLM_FILE. Prints "RESULT <json>" and exits 0; the pytest side asserts.

(require 'json)
;; Emacs 29+ has Eglot built in; Debian's elpa-eglot (Emacs 28) lives in the system ELPA folder.
(unless (locate-library "eglot")
  (dolist (dir (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*"))
    (add-to-list 'load-path dir)))
(require 'eglot)
;; A loaded CI machine can take longer than jsonrpc's default 10 s for a model call.
(setq jsonrpc-default-request-timeout 120)

(defvar smoke-result (list))
(defun smoke-put (key value) (push (cons key value) smoke-result))
(defun smoke-wait (what pred seconds)
  (let ((deadline (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.1))
    (or (funcall pred) (error "timed out waiting for %s" what))))

(condition-case err
    (progn
      (load (getenv "LOCAL_LLM_ELISP"))
      (setq local-llm-command (append (json-read-from-string (getenv "LOCAL_LLM_CMD")) nil)
            local-llm-init-options (list :modelPath (getenv "LOCAL_LLM_MODEL")
                                         :maxTokens 16 :latencyTargetMs 5000))
      (find-file (getenv "LOCAL_LLM_FILE"))
      (smoke-put 'major_mode (symbol-name major-mode))
      ;; `eglot-ensure' waits for the command loop, which batch mode has not: connect directly.
      (apply #'eglot (eglot--guess-contact))
      (smoke-wait "the server" #'eglot-current-server 60)
      (smoke-wait "localLlm/status ready" (lambda () (member local-llm-status '("ready" "error"))) 120)
      (smoke-put 'status local-llm-status)
      ;; Completion: the model's suggestion through completion-at-point.
      (goto-char (point-max))
      (insert "result = add(")
      (let* ((capf (eglot-completion-at-point))
             (table (nth 2 capf))
             (items (all-completions "" table)))
        (smoke-put 'completions items))
      ;; Explanation of the first two lines into *local-llm explain*.
      (local-llm-explain (point-min) (save-excursion (goto-char (point-min)) (line-end-position 2)))
      (smoke-put 'explanation (with-current-buffer "*local-llm explain*" (buffer-string)))
      (smoke-put 'ok t))
  (error (smoke-put 'error (format "%S" err))))

(princ (concat "RESULT " (json-encode smoke-result) "\n"))
(ignore-errors (eglot-shutdown (eglot-current-server)))
(kill-emacs 0)
