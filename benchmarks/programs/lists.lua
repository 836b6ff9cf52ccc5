-- lists: PASSES passes (argument 1) over the list 1..N (argument 2), each a map x*2, a filter
-- mod 3 = 0 and a fold +; prints the sum of the passes' results. Lists are array tables; map and
-- filter make new ones.

local function map(f, xs)
  local out = {}
  for i = 1, #xs do out[i] = f(xs[i]) end
  return out
end

local function filter(keep, xs)
  local out, k = {}, 0
  for i = 1, #xs do
    local x = xs[i]
    if keep(x) then k = k + 1; out[k] = x end
  end
  return out
end

local function fold(f, acc, xs)
  for i = 1, #xs do acc = f(acc, xs[i]) end
  return acc
end

local function one_pass(xs)
  local doubled = map(function(x) return x * 2 end, xs)
  local kept = filter(function(y) return y % 3 == 0 end, doubled)
  return fold(function(a, b) return a + b end, 0, kept)
end

local function lists(passes, n)
  local xs = {}
  for i = 1, n do xs[i] = i end
  local total = 0
  for _ = 1, passes do total = total + one_pass(xs) end
  return total
end

print(string.format("%d", lists(tonumber(arg[1]), tonumber(arg[2]))))
