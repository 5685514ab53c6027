package s3

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// getObjectAttributesResponse is GetObjectAttributes' answer; only the
// attributes asked for in x-amz-object-attributes are filled.
type getObjectAttributesResponse struct {
	XMLName      xml.Name           `xml:"http://s3.amazonaws.com/doc/2006-03-01/ GetObjectAttributesResponse"`
	ETag         string             `xml:"ETag,omitempty"`
	Checksum     *attributeChecksum `xml:"Checksum,omitempty"`
	ObjectParts  *attributeParts    `xml:"ObjectParts,omitempty"`
	StorageClass string             `xml:"StorageClass,omitempty"`
	ObjectSize   *int64             `xml:"ObjectSize,omitempty"`
}

type attributeChecksum struct {
	CRC32        string `xml:"ChecksumCRC32,omitempty"`
	CRC32C       string `xml:"ChecksumCRC32C,omitempty"`
	CRC64NVME    string `xml:"ChecksumCRC64NVME,omitempty"`
	SHA1         string `xml:"ChecksumSHA1,omitempty"`
	SHA256       string `xml:"ChecksumSHA256,omitempty"`
	ChecksumType string `xml:"ChecksumType"`
}

type attributeParts struct {
	TotalPartsCount int `xml:"PartsCount"`
}

// getObjectAttributes answers the attributes x-amz-object-attributes
// names (ETag, Checksum, ObjectParts, StorageClass, ObjectSize). The ETag
// is unquoted, as S3 sends it here; ObjectParts is present for multipart
// objects only.
func (s *Server) getObjectAttributes(q *request) error {
	if aerr := refuseVersionID(q); aerr != nil {
		return aerr
	}
	want := map[string]bool{}
	for _, v := range q.r.Header.Values("X-Amz-Object-Attributes") {
		for _, a := range strings.Split(v, ",") {
			switch a = strings.TrimSpace(a); a {
			case "ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize":
				want[a] = true
			default:
				return apiError(ErrInvalidArgument, "Invalid attribute name specified.")
			}
		}
	}
	if len(want) == 0 {
		return apiError(ErrInvalidArgument, "Minimum of 1 attribute must be specified.")
	}
	obj, err := s.backend.HeadObject(q.r.Context(), q.route.bucket, q.route.key)
	if err != nil {
		return err
	}
	var out getObjectAttributesResponse
	if want["ETag"] {
		out.ETag = obj.ETag
	}
	if want["StorageClass"] {
		out.StorageClass = "STANDARD"
	}
	if want["ObjectSize"] {
		out.ObjectSize = &obj.Size
	}
	if c := obj.Checksum; want["Checksum"] && c != nil {
		ac := &attributeChecksum{ChecksumType: "FULL_OBJECT"}
		field := map[string]*string{"CRC32": &ac.CRC32, "CRC32C": &ac.CRC32C, "CRC64NVME": &ac.CRC64NVME,
			"SHA1": &ac.SHA1, "SHA256": &ac.SHA256}[c.Algorithm]
		if field != nil {
			*field = c.Value
			out.Checksum = ac
		}
	}
	if _, n, ok := strings.Cut(obj.ETag, "-"); want["ObjectParts"] && ok {
		if parts, err := strconv.Atoi(n); err == nil {
			out.ObjectParts = &attributeParts{TotalPartsCount: parts}
		}
	}
	q.w.Header().Set("Last-Modified", obj.LastModified.UTC().Format(http.TimeFormat))
	return writeXML(q.w, http.StatusOK, out)
}
