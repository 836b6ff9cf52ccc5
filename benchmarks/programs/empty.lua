-- empty: start-up time; prints hello world (the size argument is ignored).

print("hello world")
