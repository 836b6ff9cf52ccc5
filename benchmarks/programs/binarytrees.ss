;; binarytrees: the Benchmarks Game binary-trees program at depth N (argument 1).
(import (chezscheme))

;; A tree is a pair (left . right); a bottom node is (#f . #f).
(define (bottom-up-tree depth)
  (if (> depth 0)
      (cons (bottom-up-tree (- depth 1)) (bottom-up-tree (- depth 1)))
      (cons #f #f)))

(define (item-check tree)
  (if (car tree)
      (+ 1 (item-check (car tree)) (item-check (cdr tree)))
      1))

(define (check-many iterations depth)
  (let next ([i 0] [total 0])
    (if (= i iterations)
        total
        (next (+ i 1) (+ total (item-check (bottom-up-tree depth)))))))

(define (binary-trees n)
  (let* ([min-depth 4]
         [max-depth (max (+ min-depth 2) n)]
         [stretch (+ max-depth 1)])
    (printf "stretch tree of depth ~a\t check: ~a\n" stretch (item-check (bottom-up-tree stretch)))
    (let ([long-lived (bottom-up-tree max-depth)])
      (let next ([depth min-depth])
        (when (<= depth max-depth)
          (let ([iterations (expt 2 (+ (- max-depth depth) min-depth))])
            (printf "~a\t trees of depth ~a\t check: ~a\n"
                    iterations depth (check-many iterations depth))
            (next (+ depth 2)))))
      (printf "long lived tree of depth ~a\t check: ~a\n" max-depth (item-check long-lived)))))

(binary-trees (string->number (car (command-line-arguments))))
