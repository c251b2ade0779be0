-- Actions Argo CD offers on a batchops.io CronPipeline. Every action is listed; `disabled`
-- greys out the ones that would do nothing in the object's current state.
local actions = {}

local suspended = obj.spec ~= nil and obj.spec.suspend == true

-- The operator stops at an invalid spec before it looks at the trigger annotation. (Stalled
-- also marks a failed or cancelled last run, reason LastRunFailed / LastRunCancelled: running
-- now is then exactly what may help.)
local invalid = { InvalidSchedule = true, InvalidSpec = true }
local stalled = false
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Stalled" and condition.status == "True"
        and invalid[condition.reason or ""] then
      stalled = true
    end
  end
end

actions["run-now"] = {
  ["displayName"] = "Run now",
  ["iconClass"] = "fa fa-fw fa-play",
  ["disabled"] = stalled,
}
actions["suspend"] = {
  ["displayName"] = "Suspend",
  ["iconClass"] = "fa fa-fw fa-pause",
  ["disabled"] = suspended,
}
actions["resume"] = {
  ["displayName"] = "Resume",
  ["iconClass"] = "fa fa-fw fa-play-circle",
  ["disabled"] = not suspended,
}
return actions
