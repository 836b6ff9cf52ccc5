;; loop: the sum of (i * i) mod 7 for i below N (argument 1).
(import (chezscheme))

(define (loop n)
  (let next ([i 0] [total 0])
    (if (< i n)
        (next (+ i 1) (+ total (mod (* i i) 7)))
        total)))

(display (loop (string->number (car (command-line-arguments)))))
(newline)
