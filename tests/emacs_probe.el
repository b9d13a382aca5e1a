;; Test driver for tests/test_lsp_emacs.py: open the scene, let eglot start the server, wait for flymake's
;; diagnostics, write them as JSON, quit.
(require 'json)
(let ((out (getenv "SCENEC_EMACS_OUT"))
      (deadline (+ (float-time) 120)))
  (find-file (getenv "SCENEC_SCENE"))
  ;; eglot-ensure connects from post-command-hook, which an interactive Emacs runs after each command.
  (run-hooks 'post-command-hook)
  (while (and (null (flymake-diagnostics)) (< (float-time) deadline))
    (accept-process-output nil 0.1))
  (let ((managed (if (bound-and-true-p eglot--managed-mode) t :json-false))
        (shown (mapcar (lambda (d)
                         (let ((start (flymake-diagnostic-beg d)))
                           (list (cons 'line (line-number-at-pos start))
                                 (cons 'column (save-excursion (goto-char start) (current-column)))
                                 (cons 'type (symbol-name (flymake-diagnostic-type d)))
                                 (cons 'text (flymake-diagnostic-text d)))))
                       (flymake-diagnostics))))
    (with-temp-file out
      (insert (json-encode (list (cons 'managed managed)
                                 (cons 'diagnostics (vconcat shown))))))))
(kill-emacs 0)
