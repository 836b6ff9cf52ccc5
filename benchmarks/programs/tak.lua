-- tak: the Takeuchi function of X Y Z (arguments 1-3).

local function tak(x, y, z)
  if y < x then
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))
  end
  return z
end

print(string.format("%d", tak(tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3]))))
