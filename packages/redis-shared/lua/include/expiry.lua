-- A write never moves a session's expiry (or its last renewal) earlier: concurrent requests may
-- commit in any order, and the one that renewed must win over one that carried the old expiry.
-- Returns the text of the later of the stored text (nil: none) and the given text `given`, whose
-- number is `givenNumber`; `storedNumber`, when the caller has it, is the stored text's (each text
-- is turned into a number once: tonumber of a 13-digit text goes through strtod, which costs more
-- than the rest of this function).
local function later(stored, given, givenNumber, storedNumber)
  storedNumber = storedNumber or (stored and tonumber(stored))
  if storedNumber and storedNumber > givenNumber then return stored end
  return given
end
