-- Argo CD health of a batchops.io CronPipeline: a schedule that creates BatchPipeline runs.
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

local function nextRun(status)
  if status.nextScheduleTime ~= nil then
    return "next run at " .. status.nextScheduleTime
  end
  return "no next run scheduled"
end

-- The CRD defaults status to {observedGeneration: 0} until the operator's first status write.
local status = obj.status
if status == nil or status.observedGeneration == nil or status.observedGeneration == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the batchops operator to schedule this CronPipeline"
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the batchops operator to observe generation " .. generation
  return hs
end

-- Stalled: an invalid schedule, time zone or pipeline template (no run will be created), or the
-- last run failed or was cancelled (until a later run starts). The operator never sets it on a
-- suspended CronPipeline for a failed run, so suspension below still shows.
local stalled = findCondition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = "Stalled: " .. (stalled.reason or "no reason given")
  if stalled.message ~= nil and stalled.message ~= "" then
    hs.message = stalled.message
  end
  return hs
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "CronPipeline is suspended"
  return hs
end

-- The operator records the trigger value it acted on as status.lastTrigger.
local annotations = obj.metadata.annotations or {}
local trigger = annotations["batchops.io/trigger"]
if trigger ~= nil and trigger ~= "" and trigger ~= status.lastTrigger then
  hs.status = "Progressing"
  hs.message = "Run requested; waiting for the batchops operator to start it"
  return hs
end

-- status.lastRun is the most recent run; an active run does not make the schedule unhealthy
-- (it may run for hours, and Progressing would hold up later sync waves that long). The phases
-- below agree with the Stalled condition the operator derives from the same lastRun, and cover
-- a status written by an operator older than that condition.
local lastRun = status.lastRun
if lastRun == nil or lastRun.name == nil then
  hs.status = "Healthy"
  hs.message = "No run yet; " .. nextRun(status)
  return hs
end

local detail = ""
if lastRun.message ~= nil and lastRun.message ~= "" then
  detail = ": " .. lastRun.message
end
if lastRun.phase == "Failed" then
  hs.status = "Degraded"
  hs.message = "Last run " .. lastRun.name .. " failed" .. detail
elseif lastRun.phase == "Cancelled" then
  hs.status = "Degraded"
  hs.message = "Last run " .. lastRun.name .. " was cancelled" .. detail
elseif lastRun.phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = "Last run " .. lastRun.name .. " succeeded; " .. nextRun(status)
else
  hs.status = "Healthy"
  hs.message = "Run " .. lastRun.name .. " is " .. (lastRun.phase or "starting")
    .. " (" .. (lastRun.progress or "0/?") .. "); " .. nextRun(status)
end
return hs
