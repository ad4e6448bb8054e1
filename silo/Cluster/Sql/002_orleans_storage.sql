-- Grain state for Orleans' ADO.NET grain storage provider (see 001 for the OrleansQuery contract). The provider
-- addresses a state by two 32-bit hashes plus the full key (state name, the grain key split into two 64-bit halves and
-- a string, the service id); Version is the ETag. A write or clear naming a stale @GrainStateVersion changes nothing
-- and returns no version, which the provider turns into InconsistentStateException.

CREATE TABLE OrleansStorage
(
    GrainIdHash            integer NOT NULL,
    GrainTypeHash          integer NOT NULL,
    GrainIdN0              bigint NOT NULL,
    GrainIdN1              bigint NOT NULL,
    ServiceId              text NOT NULL,
    GrainTypeString        text NOT NULL,
    GrainIdExtensionString text NULL,
    PayloadBinary          bytea NULL,
    Version                integer NOT NULL,
    ModifiedOn             timestamptz NOT NULL DEFAULT now()
);

-- Unique, so that two activations racing to create the same state cannot both succeed. The strings go in as md5:
-- grain keys are as long as a client's message id makes them, and a btree entry must stay under a page third.
-- A null extension and an empty one are different keys.
CREATE UNIQUE INDEX OrleansStorage_Key ON OrleansStorage
    (GrainIdHash, GrainTypeHash, GrainIdN0, GrainIdN1, ServiceId, md5(GrainTypeString),
     md5(COALESCE(GrainIdExtensionString, '')), (GrainIdExtensionString IS NULL));

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', $sql$
SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
$sql$);

-- No version: the state was never stored, insert it at version 1 unless someone else just did. A version: update
-- only that version. Either way one row with the new version on success, none on a lost race.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', $sql$
WITH updated AS (
    UPDATE OrleansStorage
    SET PayloadBinary = @PayloadBinary, Version = Version + 1, ModifiedOn = now()
    WHERE @GrainStateVersion IS NOT NULL
      AND GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
      AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
      AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND Version = @GrainStateVersion
    RETURNING Version
), inserted AS (
    INSERT INTO OrleansStorage
        (GrainIdHash, GrainTypeHash, GrainIdN0, GrainIdN1, ServiceId, GrainTypeString, GrainIdExtensionString,
         PayloadBinary, Version)
    SELECT @GrainIdHash, @GrainTypeHash, @GrainIdN0, @GrainIdN1, @ServiceId, @GrainTypeString, @GrainIdExtensionString,
           @PayloadBinary, 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING Version
)
SELECT Version AS NewGrainStateVersion FROM updated
UNION ALL
SELECT Version FROM inserted
$sql$);

-- Clearing keeps the row (and its version) with no payload; used when the provider is told not to delete on clear.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', $sql$
UPDATE OrleansStorage
SET PayloadBinary = NULL, Version = Version + 1, ModifiedOn = now()
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
  AND Version = @GrainStateVersion
RETURNING Version AS NewGrainStateVersion
$sql$);

-- Clearing that removes the row, as the embedded SQLite storage does: grains that clear their state when done
-- (a deleted user, a settled message) leave nothing behind. The answer only has to differ from the version the grain
-- held; the provider forgets the ETag afterwards.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', $sql$
DELETE FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
  AND Version = @GrainStateVersion
RETURNING Version + 1 AS NewGrainStateVersion
$sql$);
