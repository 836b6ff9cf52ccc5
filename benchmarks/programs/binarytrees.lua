-- binarytrees: the Benchmarks Game binary-trees program at depth N (argument 1).

-- A tree is {left, right}; a bottom node is {}.
local function bottom_up_tree(depth)
  if depth > 0 then
    depth = depth - 1
    return { bottom_up_tree(depth), bottom_up_tree(depth) }
  end
  return {}
end

local function item_check(tree)
  if tree[1] then
    return 1 + item_check(tree[1]) + item_check(tree[2])
  end
  return 1
end

local function main(n)
  local min_depth = 4
  local max_depth = math.max(min_depth + 2, n)
  local stretch = max_depth + 1
  io.write(string.format("stretch tree of depth %d\t check: %d\n",
                         stretch, item_check(bottom_up_tree(stretch))))
  local long_lived = bottom_up_tree(max_depth)
  for depth = min_depth, max_depth, 2 do
    local iterations = 2 ^ (max_depth - depth + min_depth)
    local check = 0
    for _ = 1, iterations do check = check + item_check(bottom_up_tree(depth)) end
    io.write(string.format("%d\t trees of depth %d\t check: %d\n", iterations, depth, check))
  end
  io.write(string.format("long lived tree of depth %d\t check: %d\n",
                         max_depth, item_check(long_lived)))
end

main(tonumber(arg[1]))
