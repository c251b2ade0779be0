-- Argo CD health of a batchops.io BatchPipeline: one run of a DAG of AWS Batch jobs.
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

-- "Running (1/3): job2 RUNNABLE on queue-simple"
local function summary(status)
  local text = status.phase
  if status.progress ~= nil then
    text = text .. " (" .. status.progress .. ")"
  end
  if status.message ~= nil and status.message ~= "" then
    text = text .. ": " .. status.message
  end
  return text
end

-- The CRD defaults status to {observedGeneration: 0} until the operator's first status write.
local status = obj.status
if status == nil or status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the batchops operator to start the run"
  return hs
end

-- A spec change after a run finished starts a new run: until the operator has seen the new
-- generation, the phase below belongs to the previous spec.
local generation = obj.metadata.generation
if status.observedGeneration == nil
    or (generation ~= nil and status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the batchops operator to observe generation " .. (generation or "?")
  return hs
end

-- Stalled: the run failed or was cancelled (reason StepFailed, DeadlineExceeded, Terminated),
-- its spec is invalid (InvalidSpec: nothing was submitted) or AWS refused it for good. kstatus
-- reads the same condition, so both call the run failed. A failed or cancelled run is told by
-- its phase, progress and message; the other reasons by the condition's message.
local runEnded = { StepFailed = true, DeadlineExceeded = true, Terminated = true }
local stalled = findCondition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = summary(status)
  if not runEnded[stalled.reason or ""] and stalled.message ~= nil and stalled.message ~= "" then
    hs.message = stalled.message
  end
  return hs
end

local phase = status.phase
local finished = phase == "Succeeded" or phase == "Failed" or phase == "Cancelled"

-- A new value of the rerun annotation starts another run once this one finished; the operator
-- records the value it acted on as status.rerunToken. (kstatus cannot see annotations: it calls a
-- succeeded run Current until the operator starts the new run, which it does at once.)
local annotations = obj.metadata.annotations or {}
if finished and (annotations["batchops.io/rerun"] or "") ~= (status.rerunToken or "") then
  hs.status = "Progressing"
  hs.message = "Rerun requested; waiting for the batchops operator to start a new run"
  return hs
end

if phase == "Succeeded" then
  hs.status = "Healthy"
elseif phase == "Failed" then
  hs.status = "Degraded"
elseif phase == "Cancelled" then
  -- A cancelled run ended without doing its work and will not resume by itself: like a failed
  -- one, it needs a human (rerun or change the spec). Suspended would suggest it can resume.
  hs.status = "Degraded"
elseif phase == "Pending" or phase == "Running" then
  hs.status = "Progressing"
else
  hs.status = "Unknown"
end
hs.message = summary(status)
return hs
