;; scenec in Emacs 28+ with eglot (built in from Emacs 29; `M-x package-install RET eglot` or Debian's
;; elpa-eglot on 28): a mode for .scene and .cast files and the language server. Put this in your init file.
;; Set `scenec-lsp-command' first to use another command, e.g. '("/path/to/.venv/bin/scenec" "lsp").
(defvar scenec-lsp-command '("scenec" "lsp") "The command that starts scenec's language server.")

(define-derived-mode scene-mode text-mode "Scene"
  "Major mode for scenec's .scene and .cast files."
  (setq-local comment-start "-- ")
  (setq-local comment-start-skip "--+[ \t]*"))
(add-to-list 'auto-mode-alist '("\\.\\(scene\\|cast\\)\\'" . scene-mode))

(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs `(scene-mode . ,scenec-lsp-command)))
(add-hook 'scene-mode-hook #'eglot-ensure)
