;; mandelbrot: points of an N x N grid (argument 1) whose orbit stays within |z|^2 <= 4 for ITERS
;; iterations (argument 2), with c = (-2.0 + 2.5x/N) + (-1.25 + 2.5y/N)i.
(import (chezscheme))

(define (stays-bounded? cr ci iters)
  (let step ([zr 0.0] [zi 0.0] [k 0])
    (if (= k iters)
        #t
        (let ([next-zr (+ (- (* zr zr) (* zi zi)) cr)]
              [next-zi (+ (* (* 2.0 zr) zi) ci)])
          (if (> (+ (* next-zr next-zr) (* next-zi next-zi)) 4.0)
              #f
              (step next-zr next-zi (+ k 1)))))))

(define (count-row ci n iters)
  (let next ([x 0] [count 0])
    (if (= x n)
        count
        (let ([cr (+ -2.0 (/ (* 2.5 x) n))])
          (next (+ x 1) (if (stays-bounded? cr ci iters) (+ count 1) count))))))

(define (mandelbrot n iters)
  (let next ([y 0] [count 0])
    (if (= y n)
        count
        (let ([ci (+ -1.25 (/ (* 2.5 y) n))])
          (next (+ y 1) (+ count (count-row ci n iters)))))))

(let ([sizes (map string->number (command-line-arguments))])
  (display (mandelbrot (car sizes) (cadr sizes)))
  (newline))
