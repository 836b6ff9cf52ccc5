-- mandelbrot: points of an N x N grid (argument 1) whose orbit stays within |z|^2 <= 4 for ITERS
-- iterations (argument 2), with c = (-2.0 + 2.5x/N) + (-1.25 + 2.5y/N)i.

local function stays_bounded(cr, ci, iters)
  local zr, zi = 0.0, 0.0
  for _ = 1, iters do
    zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
    if zr * zr + zi * zi > 4.0 then return false end
  end
  return true
end

local function mandelbrot(n, iters)
  local count = 0
  for y = 0, n - 1 do
    local ci = -1.25 + 2.5 * y / n
    for x = 0, n - 1 do
      local cr = -2.0 + 2.5 * x / n
      if stays_bounded(cr, ci, iters) then count = count + 1 end
    end
  end
  return count
end

print(string.format("%d", mandelbrot(tonumber(arg[1]), tonumber(arg[2]))))
