-- Stop a BatchPipeline's run without deleting the object: a new value of the
-- batchops.io/terminate annotation asks the operator to cancel the run's jobs that have not
-- started, terminate those that have, and end the run as Cancelled (it records the value it
-- acted on as status.terminateToken). Argo CD's Lua sandbox has os.date but no random numbers,
-- so the value is the current UTC time.
local os = require("os")

local annotation = "batchops.io/terminate"
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
local current = obj.metadata.annotations[annotation]
local handled = nil
if obj.status ~= nil then
  handled = obj.status.terminateToken
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
