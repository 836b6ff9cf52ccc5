;; lists: PASSES passes (argument 1) over the list 1..N (argument 2), each a map x*2, a filter
;; mod 3 = 0 and a fold +; prints the sum of the passes' results.
(import (chezscheme))

(define (one-pass xs)
  (let* ([doubled (map (lambda (x) (* x 2)) xs)]
         [kept (filter (lambda (y) (= (mod y 3) 0)) doubled)])
    (fold-left + 0 kept)))

(define (lists passes n)
  (let ([xs (map (lambda (i) (+ i 1)) (iota n))])
    (let next ([pass 0] [total 0])
      (if (= pass passes)
          total
          (next (+ pass 1) (+ total (one-pass xs)))))))

(let ([sizes (map string->number (command-line-arguments))])
  (display (lists (car sizes) (cadr sizes)))
  (newline))
