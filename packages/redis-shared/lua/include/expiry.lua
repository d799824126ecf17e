-- A write never moves a session's expiry (or its last renewal) earlier: concurrent requests may
-- commit in any order, and the one that renewed must win over one that carried the old expiry.
-- Returns the text of the later of the stored text (nil: none) and the given value.
local function later(stored, given)
  if stored and tonumber(stored) and tonumber(stored) > tonumber(given) then return stored end
  return given
end
