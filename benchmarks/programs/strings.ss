;; strings: the length of the text made of the decimal form of i followed by "," for every i
;; below N (argument 1). The text is built with a string output port.
(import (chezscheme))

(define (strings n)
  (let-values ([(port text) (open-string-output-port)])
    (do ([i 0 (+ i 1)]) ((= i n))
      (put-string port (number->string i))
      (put-char port #\,))
    (string-length (text))))

(display (strings (string->number (car (command-line-arguments)))))
(newline)
