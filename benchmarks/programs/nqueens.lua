-- nqueens: the number of ways to place N queens (argument 1) on an N x N board.

-- placed[1..#placed] are the columns of the queens already placed; the most recent is checked first.
local function is_safe(col, placed)
  local distance = 1
  for r = #placed, 1, -1 do
    local q = placed[r]
    if q == col or q - col == distance or col - q == distance then return false end
    distance = distance + 1
  end
  return true
end

local function solve(n, placed)
  if #placed == n then return 1 end
  local count = 0
  for col = 0, n - 1 do
    if is_safe(col, placed) then
      placed[#placed + 1] = col
      count = count + solve(n, placed)
      placed[#placed] = nil
    end
  end
  return count
end

print(string.format("%d", solve(tonumber(arg[1]), {})))
