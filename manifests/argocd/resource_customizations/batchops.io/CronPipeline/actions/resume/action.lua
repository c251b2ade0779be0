-- Create scheduled runs again. Of the times missed while suspended, the operator runs at most
-- the most recent one (and only within spec.startingDeadlineSeconds, when that is set).
obj.spec.suspend = false
return obj
