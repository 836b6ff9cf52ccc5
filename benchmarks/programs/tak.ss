;; tak: the Takeuchi function of X Y Z (arguments 1-3).
(import (chezscheme))

(define (tak x y z)
  (if (< y x)
      (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y))
      z))

(let ([sizes (map string->number (command-line-arguments))])
  (display (tak (car sizes) (cadr sizes) (caddr sizes)))
  (newline))
