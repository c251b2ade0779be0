-- Run the failed, cancelled and never-run steps of a failed or cancelled BatchPipeline again, in
-- the same run: the succeeded steps keep their jobs. The operator acts when the
-- batchops.io/retry-failed annotation differs from the value it acted on last (status.retryToken).
-- Argo CD's Lua sandbox has os.date but no random numbers, so the value is
-- the current UTC time.
local os = require("os")

local annotation = "batchops.io/retry-failed"
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
local current = obj.metadata.annotations[annotation]
local handled = nil
if obj.status ~= nil then
  handled = obj.status.retryToken
end

-- Within one second the values count up (T, T-2, T-3, ...): continue after the latest one seen,
-- so an earlier value (and the run named after it) is never reused.
local stamp = os.date("!%Y-%m-%dT%H:%M:%SZ")
local function candidate(n)
  if n == 1 then
    return stamp
  end
  return stamp .. "-" .. n
end
local chosen = 1
for n = 1, 100 do
  if candidate(n) == current or candidate(n) == handled then
    chosen = n + 1
  end
end

obj.metadata.annotations[annotation] = candidate(chosen)
return obj
