;; nqueens: the number of ways to place N queens (argument 1) on an N x N board.
(import (chezscheme))

;; `placed` holds the columns of the queens already placed, the most recent row first.
(define (safe? col placed)
  (let check ([queens placed] [distance 1])
    (cond
      [(null? queens) #t]
      [(let ([q (car queens)])
         (or (= q col) (= (- q col) distance) (= (- col q) distance)))
       #f]
      [else (check (cdr queens) (+ distance 1))])))

(define (solve n row placed)
  (if (= row n)
      1
      (let next ([col 0] [count 0])
        (cond
          [(= col n) count]
          [(safe? col placed) (next (+ col 1) (+ count (solve n (+ row 1) (cons col placed))))]
          [else (next (+ col 1) count)]))))

(display (solve (string->number (car (command-line-arguments))) 0 '()))
(newline)
