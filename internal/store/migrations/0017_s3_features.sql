-- S3 bucket tags (PutBucketTagging): a JSON array of {"Key","Value"} in
-- the order they were put, '' = no tag set (GetBucketTagging answers
-- NoSuchTagSet).
ALTER TABLE buckets ADD COLUMN tags TEXT NOT NULL DEFAULT '';
