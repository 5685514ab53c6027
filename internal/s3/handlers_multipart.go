package s3

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// Multipart limits, as S3's.
const (
	MinPartSize = 5 << 20 // every part but the last
	MaxParts    = 10000
)

func (s *Server) createMultipartUpload(q *request) error {
	meta, aerr := metaFromHeaders(q.r.Header)
	if aerr != nil {
		return aerr
	}
	if err := checkPutACL(q.access, meta, q.route.key); err != nil {
		return err
	}
	id, err := s.backend.CreateUpload(q.r.Context(), q.route.bucket, q.route.key, meta)
	if err != nil {
		return err
	}
	return writeXML(q.w, http.StatusOK, initiateMultipartUploadResult{Bucket: q.route.bucket, Key: q.route.key, UploadID: id})
}

// partNumber reads the partNumber parameter (1 to MaxParts).
func partNumber(query url.Values) (int, *Error) {
	n, err := strconv.Atoi(query.Get("partNumber"))
	if err != nil || n < 1 || n > MaxParts {
		return 0, apiError(ErrInvalidArgument, "Part number must be an integer between 1 and %d, inclusive.", MaxParts)
	}
	return n, nil
}

func (s *Server) uploadPart(q *request) error {
	n, aerr := partNumber(q.route.query)
	if aerr != nil {
		return aerr
	}
	body, aerr := newBody(q.r, q.auth)
	if aerr != nil {
		return aerr
	}
	part, err := s.backend.PutPart(q.r.Context(), q.route.bucket, q.route.key, q.route.query.Get("uploadId"), n, body, body.size)
	if body.err != nil {
		return body.err
	}
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", quoted(part.ETag))
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) uploadPartCopy(q *request) error {
	if err := q.access.check("s3:PutObject", q.route.key); err != nil {
		return err
	}
	n, aerr := partNumber(q.route.query)
	if aerr != nil {
		return aerr
	}
	var rng *backend.ByteRange
	if v := q.r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		if rng = parseRange(v); rng == nil || rng.Suffix > 0 || rng.Last < 0 {
			return apiError(ErrInvalidArgument, "The x-amz-copy-source-range value must be of the form bytes=first-last.")
		}
	}
	rd, _, err := s.openCopySource(q, rng)
	if err != nil {
		return err
	}
	defer rd.Close()
	part, err := s.backend.PutPart(q.r.Context(), q.route.bucket, q.route.key, q.route.query.Get("uploadId"), n, rd, rd.Length)
	if err != nil {
		return err
	}
	return writeXML(q.w, http.StatusOK, copyPartResult{LastModified: xmlTime(part.LastModified), ETag: quoted(part.ETag)})
}

func (s *Server) completeMultipartUpload(q *request) error {
	var req completeMultipartUpload
	if err := xml.Unmarshal(q.small, &req); err != nil || len(req.Parts) == 0 {
		return apiError(ErrMalformedXML, "")
	}
	ctx, id := q.r.Context(), q.route.query.Get("uploadId")
	_, have, err := s.backend.ListParts(ctx, q.route.bucket, q.route.key, id)
	if err != nil {
		return err
	}
	parts, aerr := chooseParts(req, have)
	if aerr != nil {
		return aerr
	}
	var obj backend.Object
	err = s.conditionalWrite(q, func() error {
		var err error
		obj, err = s.backend.CompleteUpload(ctx, q.route.bucket, q.route.key, id, parts)
		return err
	})
	if err != nil {
		return err
	}
	return writeXML(q.w, http.StatusOK, completeMultipartUploadResult{Location: "/" + q.route.bucket + "/" + q.route.key,
		Bucket: q.route.bucket, Key: q.route.key, ETag: quoted(obj.ETag)})
}

// chooseParts checks the client's part list against the uploaded parts:
// ascending numbers, each uploaded with that ETag, all but the last at
// least MinPartSize.
func chooseParts(req completeMultipartUpload, have []backend.Part) ([]backend.Part, *Error) {
	byNumber := make(map[int]backend.Part, len(have))
	for _, p := range have {
		byNumber[p.Number] = p
	}
	parts := make([]backend.Part, 0, len(req.Parts))
	for i, want := range req.Parts {
		if i > 0 && want.PartNumber <= req.Parts[i-1].PartNumber {
			return nil, apiError(ErrInvalidPartOrder, "")
		}
		p, ok := byNumber[want.PartNumber]
		if !ok || unquote(want.ETag) != p.ETag {
			return nil, apiError(ErrInvalidPart, "Part %d was not uploaded, or its ETag does not match.", want.PartNumber)
		}
		parts = append(parts, p)
	}
	for _, p := range parts[:len(parts)-1] {
		if p.Size < MinPartSize {
			return nil, apiError(ErrEntityTooSmall, "Part %d is %d bytes; every part but the last must be at least %d bytes.", p.Number, p.Size, MinPartSize)
		}
	}
	return parts, nil
}

func (s *Server) abortMultipartUpload(q *request) error {
	if err := s.backend.AbortUpload(q.r.Context(), q.route.bucket, q.route.key, q.route.query.Get("uploadId")); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listParts(q *request) error {
	query := q.route.query
	maxParts, marker, aerr := intParams(query, "max-parts", "part-number-marker")
	if aerr != nil {
		return aerr
	}
	id := query.Get("uploadId")
	_, parts, err := s.backend.ListParts(q.r.Context(), q.route.bucket, q.route.key, id)
	if err != nil {
		return err
	}
	o := accountOwner(q.access.bucket.AccountID)
	out := listPartsResult{Bucket: q.route.bucket, Key: q.route.key, UploadID: id, Initiator: o, Owner: o,
		StorageClass: "STANDARD", PartNumberMarker: marker, MaxParts: maxParts}
	for _, p := range parts {
		if p.Number <= marker {
			continue
		}
		if len(out.Parts) == maxParts {
			out.IsTruncated = true
			break
		}
		out.Parts = append(out.Parts, partEntry{PartNumber: p.Number, LastModified: xmlTime(p.LastModified), ETag: quoted(p.ETag), Size: p.Size})
		out.NextPartNumberMarker = p.Number
	}
	return writeXML(q.w, http.StatusOK, out)
}

// intParams reads a page size (default and cap 1000) and a numeric marker.
func intParams(query url.Values, sizeName, markerName string) (size, marker int, aerr *Error) {
	size = maxListKeys
	if v := query.Get(sizeName); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, apiError(ErrInvalidArgument, "%s must be a non-negative integer.", sizeName)
		}
		size = min(n, maxListKeys)
	}
	if v := query.Get(markerName); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, apiError(ErrInvalidArgument, "%s must be a non-negative integer.", markerName)
		}
		marker = n
	}
	return size, marker, nil
}

func (s *Server) listMultipartUploads(q *request) error {
	query := q.route.query
	p, aerr := parseListParams(url.Values{"prefix": {query.Get("prefix")}, "delimiter": {query.Get("delimiter")},
		"encoding-type": {query.Get("encoding-type")}, "max-keys": {query.Get("max-uploads")}})
	if aerr != nil {
		return aerr
	}
	uploads, err := s.backend.ListUploads(q.r.Context(), q.route.bucket, p.prefix)
	if err != nil {
		return err
	}
	keyMarker, idMarker := query.Get("key-marker"), query.Get("upload-id-marker")
	out := listMultipartUploadsResult{Bucket: q.route.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker,
		Prefix: p.encodeKey(p.prefix), Delimiter: p.encodeKey(p.delimiter), MaxUploads: p.maxKeys, EncodingType: p.encoding}
	o := accountOwner(q.access.bucket.AccountID)
	seen := map[string]bool{}
	for _, u := range uploads {
		if u.Key < keyMarker || (u.Key == keyMarker && (idMarker == "" || u.ID <= idMarker)) {
			continue
		}
		cp, grouped := groupUnder(u.Key, p.prefix, p.delimiter)
		if grouped && seen[cp] {
			continue
		}
		if len(out.Uploads)+len(out.CommonPrefixes) == p.maxKeys {
			out.IsTruncated = true
			break
		}
		if grouped {
			seen[cp] = true
			out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: p.encodeKey(cp)})
			continue
		}
		out.Uploads = append(out.Uploads, uploadEntry{Key: p.encodeKey(u.Key), UploadID: u.ID, Initiator: o, Owner: o,
			StorageClass: "STANDARD", Initiated: xmlTime(u.Initiated)})
		out.NextKeyMarker, out.NextUploadIDMarker = u.Key, u.ID
	}
	sort.Slice(out.CommonPrefixes, func(i, j int) bool { return out.CommonPrefixes[i].Prefix < out.CommonPrefixes[j].Prefix })
	return writeXML(q.w, http.StatusOK, out)
}

// groupUnder returns key's common prefix under prefix and delimiter.
func groupUnder(key, prefix, delimiter string) (string, bool) {
	if delimiter == "" {
		return "", false
	}
	i := strings.Index(key[len(prefix):], delimiter)
	if i < 0 {
		return "", false
	}
	return key[:len(prefix)+i+len(delimiter)], true
}
