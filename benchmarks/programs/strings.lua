-- strings: the length of the text made of the decimal form of i followed by "," for every i
-- below N (argument 1). The pieces are joined with table.concat.

local function strings(n)
  local pieces = {}
  for i = 0, n - 1 do pieces[i + 1] = i .. "," end
  return #table.concat(pieces)
end

print(string.format("%d", strings(tonumber(arg[1]))))
