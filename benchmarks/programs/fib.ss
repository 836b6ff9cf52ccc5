;; fib: naive doubly recursive Fibonacci of N (argument 1).
(import (chezscheme))

(define (fib n)
  (if (< n 2)
      n
      (+ (fib (- n 1)) (fib (- n 2)))))

(display (fib (string->number (car (command-line-arguments)))))
(newline)
