-- Stop creating scheduled runs; runs already started go on. The operator also clears
-- status.nextScheduleTime while suspended.
obj.spec.suspend = true
return obj
