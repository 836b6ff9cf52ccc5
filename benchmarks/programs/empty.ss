;; empty: start-up time; prints hello world (the size argument is ignored).
(import (chezscheme))

(display "hello world")
(newline)
