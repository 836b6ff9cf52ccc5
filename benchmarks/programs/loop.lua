-- loop: the sum of (i * i) mod 7 for i below N (argument 1).

local function loop(n)
  local total = 0
  for i = 0, n - 1 do
    total = total + i * i % 7
  end
  return total
end

print(string.format("%d", loop(tonumber(arg[1]))))
