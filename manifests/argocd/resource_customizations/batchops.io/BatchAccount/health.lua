-- Argo CD health of a BatchAccount: the operator assumes its role and counts the namespaces it
-- allows; there is no AWS resource status, only the conditions.
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

local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the batchops operator to observe generation " .. generation
  return hs
end

-- Stalled: a human must act (the role cannot be assumed, no namespace may use the account).
local stalled = findCondition(status, "Stalled")
if isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = messageOf(stalled, "Stalled: " .. (stalled.reason or "no reason given"))
  return hs
end

local reconciling = findCondition(status, "Reconciling")
if isTrue(reconciling) then
  hs.status = "Progressing"
  hs.message = messageOf(reconciling, reconciling.reason or "Reconciling")
  return hs
end

local ready = findCondition(status, "Ready")
if isTrue(ready) then
  hs.status = "Healthy"
  hs.message = messageOf(ready, "The role can be assumed")
  return hs
end

hs.status = "Progressing"
hs.message = messageOf(ready, "Waiting for the role to be assumed")
return hs
