-- Actions Argo CD offers on a batchops.io BatchPipeline. All are always listed; `disabled`
-- greys out the ones that do not apply to the run's current phase.
local actions = {}

-- Stalled also marks every failed or cancelled run (for kstatus); only an invalid spec makes a
-- rerun pointless.
local phase = nil
local invalidSpec = false
if obj.status ~= nil then
  phase = obj.status.phase
  if obj.status.conditions ~= nil then
    for _, condition in ipairs(obj.status.conditions) do
      if condition.type == "Stalled" and condition.status == "True"
          and condition.reason == "InvalidSpec" then
        invalidSpec = true
      end
    end
  end
end
local finished = phase == "Succeeded" or phase == "Failed" or phase == "Cancelled"
local active = phase == "Pending" or phase == "Running"

-- The operator never replaces a run in progress, and never starts one from an invalid spec.
actions["rerun"] = {
  ["displayName"] = "Rerun",
  ["iconClass"] = "fa fa-fw fa-redo",
  ["disabled"] = not finished or invalidSpec,
}
-- Only a run that failed or was cancelled has steps to run again.
actions["retry-failed"] = {
  ["displayName"] = "Retry failed steps",
  ["iconClass"] = "fa fa-fw fa-wrench",
  ["disabled"] = not (phase == "Failed" or phase == "Cancelled") or invalidSpec,
}
actions["terminate"] = {
  ["displayName"] = "Terminate",
  ["iconClass"] = "fa fa-fw fa-stop",
  ["disabled"] = not active,
}
return actions
