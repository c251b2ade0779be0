-- Argo CD health of a batchops.io infrastructure object (BatchComputeEnvironment, BatchJobQueue,
-- BatchSchedulingPolicy and BatchConsumableResource share this script: the operator reports them
-- the same way).
-- Argo CD runs it in gopher-lua (Lua 5.1) with only the base, table and os (time/date) libraries
-- loaded, so it uses no string.* or math.* functions.
local hs = {}

local function findCondition(status, conditionType)
  if status.conditions == nil then
    return nil
  end
  for _, condition in ipairs(status.conditions) do
    if condition.type == conditionType then
      return condition
    end
  end
  return nil
end

local function isTrue(condition)
  return condition ~= nil and condition.status == "True"
end

local function messageOf(condition, fallback)
  if condition ~= nil and condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  return fallback
end

-- The CRD defaults status to {observedGeneration: 0} until the operator's first status write.
local status = obj.status
if status == nil or status.observedGeneration == nil or status.observedGeneration == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the batchops operator to observe this object"
  return hs
end

-- The operator writes observedGeneration at the start of every pass: older means the status
-- below describes a previous spec.
local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the batchops operator to observe generation " .. generation
  return hs
end

local awsName = status.awsName or obj.metadata.name
local awsStatus = status.status

-- AWS's own status is refreshed on every pass, so it outranks conditions that a pass in a
-- transitional state leaves untouched.
if awsStatus == "CREATING" or awsStatus == "UPDATING" or awsStatus == "DELETING" then
  hs.status = "Progressing"
  hs.message = "AWS Batch reports " .. awsName .. " " .. awsStatus
  return hs
end

if awsStatus == "INVALID" then
  hs.status = "Degraded"
  hs.message = "AWS Batch reports " .. awsName .. " INVALID: "
    .. (status.statusReason or "no reason given")
  return hs
end

-- Stalled: a human must act (invalid spec, name conflict, terminal AWS error, blocked update).
local stalled = findCondition(status, "Stalled")
if isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = messageOf(stalled, "Stalled: " .. (stalled.reason or "no reason given"))
  return hs
end

-- Reconciling: work in progress (an update, a blue/green replacement, waiting for a
-- referenced compute environment, retrying after throttling).
local reconciling = findCondition(status, "Reconciling")
if isTrue(reconciling) then
  hs.status = "Progressing"
  hs.message = messageOf(reconciling, reconciling.reason or "Reconciling")
  return hs
end

local ready = findCondition(status, "Ready")
if isTrue(ready) and awsStatus == "VALID" then
  hs.status = "Healthy"
  hs.message = messageOf(ready, awsName .. " is VALID")
  return hs
end

hs.status = "Progressing"
hs.message = messageOf(ready, "Waiting for " .. awsName .. " to become Ready")
return hs
