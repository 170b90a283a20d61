-- Delete a registered model version that is neither live nor in shadow; drop it from the rollback history.
-- KEYS: the version's hash, versions index, live pointer, shadow pointer, history list, audit stream
-- ARGV: version, actor, timestamp
local version = ARGV[1]
if redis.call('GET', KEYS[3]) == version or redis.call('GET', KEYS[4]) == version then
  return 0
end
redis.call('LREM', KEYS[5], 0, version)
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], version)
redis.call('XADD', KEYS[6], 'MAXLEN', '~', 100000, '*', 'event', 'model_forget', 'actor', ARGV[2], 'at', ARGV[3],
  'version', version)
return 1
