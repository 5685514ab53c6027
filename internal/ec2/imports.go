package ec2

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Import task kinds and statuses, as EC2 reports them.
const (
	ImportKindImage    = "image"
	ImportKindSnapshot = "snapshot"
	ImportActive       = "active"
	ImportCompleted    = "completed"
	ImportDeleting     = "deleting"
	ImportDeleted      = "deleted"
)

// importFormats maps the formats ImportImage accepts to qemu-img's names.
var importFormats = map[string]string{"raw": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vhd": "vpc", "": ""}

func errImportTaskNotFound(id string) error {
	return apiErr("InvalidConversionTaskId.Malformed", "The import task '%s' does not exist.", id)
}

// importSource validates one disk container and returns format, bucket and key.
func importSource(format *string, url *string, bucket *ec2api.UserBucket) (string, string, string, error) {
	f := strings.ToLower(deref(format))
	if _, ok := importFormats[f]; !ok {
		return "", "", "", invalid("Value (%s) for parameter Format is invalid. Kumo imports raw, qcow2, vmdk and vhd disks.", deref(format))
	}
	if url != nil {
		return "", "", "", apiErr("UnsupportedOperation", "Importing from a URL is not supported by Kumo; upload the disk to Kumo's S3 and give UserBucket.")
	}
	if bucket == nil || deref(bucket.S3Bucket) == "" || deref(bucket.S3Key) == "" {
		return "", "", "", apiErr("MissingParameter", "The request must contain the parameter UserBucket with S3Bucket and S3Key")
	}
	return f, *bucket.S3Bucket, *bucket.S3Key, nil
}

// ImportImage starts a task that converts a disk in S3 into a snapshot and an AMI.
func (s *Service) ImportImage(ctx context.Context, in *ec2api.ImportImageRequest) (*ec2api.ImportImageResult, error) {
	if len(in.DiskContainers) != 1 {
		return nil, invalid("Kumo imports images of exactly one disk; give one DiskContainer (got %d).", len(in.DiskContainers))
	}
	dc := in.DiskContainers[0]
	if dc.SnapshotId != nil {
		return nil, apiErr("UnsupportedOperation", "Importing from an existing snapshot is not supported; use RegisterImage with the snapshot.")
	}
	format, bucket, key, err := importSource(dc.Format, dc.Url, dc.UserBucket)
	if err != nil {
		return nil, err
	}
	if a := deref(in.Architecture); a != "" && a != "x86_64" {
		return nil, invalid("Value (%s) for parameter Architecture is invalid. Kumo's hosts run x86_64 guests.", a)
	}
	if b := deref(in.BootMode); b != "" && b != "legacy-bios" && b != "uefi" {
		return nil, invalid("Value (%s) for parameter BootMode is invalid. Valid values: legacy-bios, uefi.", b)
	}
	t := store.ImportTask{ID: ids.Resource("import-ami"), Kind: ImportKindImage, Format: format, S3Bucket: bucket, S3Key: key,
		Description: deref(in.Description), Architecture: "x86_64", BootMode: deref(in.BootMode), ClientToken: deref(in.ClientToken),
		SnapshotID: ids.Resource("snap"), ImageID: ids.Resource("ami")}
	t, tags, err := s.startImport(ctx, t, in.TagSpecifications, "import-image-task")
	if err != nil {
		return nil, err
	}
	task := apiImportImageTask(t, tags)
	return &ec2api.ImportImageResult{
		ImportTaskId: task.ImportTaskId, Status: task.Status, StatusMessage: task.StatusMessage, Progress: task.Progress,
		Description: task.Description, Architecture: task.Architecture, Platform: task.Platform, LicenseType: task.LicenseType,
		SnapshotDetails: task.SnapshotDetails, Encrypted: task.Encrypted, Tags: task.Tags,
	}, nil
}

// ImportSnapshot starts a task that converts a disk in S3 into a snapshot.
func (s *Service) ImportSnapshot(ctx context.Context, in *ec2api.ImportSnapshotRequest) (*ec2api.ImportSnapshotResult, error) {
	if in.DiskContainer == nil {
		return nil, apiErr("MissingParameter", "The request must contain the parameter DiskContainer")
	}
	format, bucket, key, err := importSource(in.DiskContainer.Format, in.DiskContainer.Url, in.DiskContainer.UserBucket)
	if err != nil {
		return nil, err
	}
	t := store.ImportTask{ID: ids.Resource("import-snap"), Kind: ImportKindSnapshot, Format: format, S3Bucket: bucket, S3Key: key,
		Description: deref(in.Description), ClientToken: deref(in.ClientToken), SnapshotID: ids.Resource("snap")}
	t, tags, err := s.startImport(ctx, t, in.TagSpecifications, "import-snapshot-task")
	if err != nil {
		return nil, err
	}
	return &ec2api.ImportSnapshotResult{ImportTaskId: str(t.ID), Description: optional(t.Description), SnapshotTaskDetail: snapshotTaskDetail(t), Tags: apiTags(tags)}, nil
}

// startImport records a new task, or returns the earlier one with the same ClientToken.
func (s *Service) startImport(ctx context.Context, t store.ImportTask, specs []ec2api.TagSpecification, rtype string) (store.ImportTask, []store.Tag, error) {
	tagReq, err := specTags(specs, rtype)
	if err != nil {
		return t, nil, err
	}
	var tags []store.Tag
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		if t.ClientToken != "" {
			prior, err := tx.ListImportTasks(ctx, account, t.Kind)
			if err != nil {
				return err
			}
			for _, p := range prior {
				if p.ClientToken == t.ClientToken {
					if p.Format != t.Format || p.S3Bucket != t.S3Bucket || p.S3Key != t.S3Key || p.Description != t.Description || p.BootMode != t.BootMode {
						return errIdempotentMismatch(t.ClientToken)
					}
					t = p
					byRes, err := tx.TagsByResource(ctx, account, rtype)
					tags = byRes[t.ID]
					return err
				}
			}
		}
		now := time.Now().UTC()
		t.AccountID, t.Status, t.StatusMessage, t.CreatedAt, t.UpdatedAt = account, ImportActive, "pending", now, now
		if err := tx.InsertImportTask(ctx, t); err != nil {
			return err
		}
		tags, err = putTags(ctx, tx, account, t.ID, rtype, tagReq)
		return err
	})
	return t, tags, err
}

func userBucketDetails(t store.ImportTask) *ec2api.UserBucketDetails {
	return &ec2api.UserBucketDetails{S3Bucket: str(t.S3Bucket), S3Key: str(t.S3Key)}
}

func progressText(t store.ImportTask) *string {
	if t.Status != ImportActive {
		return nil
	}
	return str(strconv.FormatInt(t.Progress, 10))
}

func diskImageSize(t store.ImportTask) *float64 {
	if t.DiskSize == 0 {
		return nil
	}
	f := float64(t.DiskSize)
	return &f
}

func snapshotTaskDetail(t store.ImportTask) *ec2api.SnapshotTaskDetail {
	d := &ec2api.SnapshotTaskDetail{Status: str(t.Status), StatusMessage: optional(t.StatusMessage), Progress: progressText(t),
		Format: optional(strings.ToUpper(t.Format)), UserBucket: userBucketDetails(t), DiskImageSize: diskImageSize(t),
		Description: optional(t.Description), Encrypted: boolp(false)}
	if t.Status == ImportCompleted {
		d.SnapshotId = str(t.SnapshotID)
	}
	return d
}

func apiImportImageTask(t store.ImportTask, tags []store.Tag) ec2api.ImportImageTask {
	detail := ec2api.SnapshotDetail{Status: str(t.Status), StatusMessage: optional(t.StatusMessage), Progress: progressText(t),
		Format: optional(strings.ToUpper(t.Format)), UserBucket: userBucketDetails(t), DiskImageSize: diskImageSize(t), DeviceName: str("/dev/sda1")}
	task := ec2api.ImportImageTask{ImportTaskId: str(t.ID), Status: str(t.Status), StatusMessage: optional(t.StatusMessage),
		Progress: progressText(t), Description: optional(t.Description), Architecture: str(t.Architecture), Platform: str("Linux"),
		LicenseType: str("BYOL"), Encrypted: boolp(false), BootMode: optional(t.BootMode), Tags: apiTags(tags)}
	if t.Status == ImportCompleted {
		task.ImageId = str(t.ImageID)
		detail.SnapshotId = str(t.SnapshotID)
	}
	task.SnapshotDetails = []ec2api.SnapshotDetail{detail}
	return task
}

var importFields = filter.Fields[store.ImportTask]{
	"task-state": func(t store.ImportTask) []string { return filter.One(t.Status) },
	"task-id":    func(t store.ImportTask) []string { return filter.One(t.ID) },
}

// importTasks lists the caller's tasks of one kind, selected, filtered and paged.
func (s *Service) importTasks(ctx context.Context, kind, rtype string, taskIDs []string, filters []ec2api.Filter, max *int32, token *string) ([]store.ImportTask, map[string][]store.Tag, *string, error) {
	var tasks []store.ImportTask
	var tags map[string][]store.Tag
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) (err error) {
		if tasks, err = tx.ListImportTasks(ctx, account, kind); err != nil {
			return err
		}
		tags, err = tx.TagsByResource(ctx, account, rtype)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if tasks, err = selectByID(tasks, taskIDs, func(t store.ImportTask) string { return t.ID }, errImportTaskNotFound); err != nil {
		return nil, nil, nil, err
	}
	page, next, err := describe(tasks, filters, importFields, func(t store.ImportTask) map[string]string { return tagMap(tags[t.ID]) },
		func(t store.ImportTask) string { return t.ID }, max, token, paginate.Limits{Min: 1, Max: 500})
	return page, tags, next, err
}

// DescribeImportImageTasks reports the caller's image imports.
func (s *Service) DescribeImportImageTasks(ctx context.Context, in *ec2api.DescribeImportImageTasksRequest) (*ec2api.DescribeImportImageTasksResult, error) {
	page, tags, next, err := s.importTasks(ctx, ImportKindImage, "import-image-task", in.ImportTaskIds, in.Filters, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeImportImageTasksResult{ImportImageTasks: []ec2api.ImportImageTask{}, NextToken: next}
	for _, t := range page {
		out.ImportImageTasks = append(out.ImportImageTasks, apiImportImageTask(t, tags[t.ID]))
	}
	return out, nil
}

// DescribeImportSnapshotTasks reports the caller's snapshot imports.
func (s *Service) DescribeImportSnapshotTasks(ctx context.Context, in *ec2api.DescribeImportSnapshotTasksRequest) (*ec2api.DescribeImportSnapshotTasksResult, error) {
	page, tags, next, err := s.importTasks(ctx, ImportKindSnapshot, "import-snapshot-task", in.ImportTaskIds, in.Filters, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeImportSnapshotTasksResult{ImportSnapshotTasks: []ec2api.ImportSnapshotTask{}, NextToken: next}
	for _, t := range page {
		out.ImportSnapshotTasks = append(out.ImportSnapshotTasks, ec2api.ImportSnapshotTask{ImportTaskId: str(t.ID),
			Description: optional(t.Description), SnapshotTaskDetail: snapshotTaskDetail(t), Tags: apiTags(tags[t.ID])})
	}
	return out, nil
}

// CancelImportTask asks the importer to stop an active task.
func (s *Service) CancelImportTask(ctx context.Context, in *ec2api.CancelImportTaskRequest) (*ec2api.CancelImportTaskResult, error) {
	id := deref(in.ImportTaskId)
	if id == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter ImportTaskId")
	}
	var prev string
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		t, err := tx.GetImportTask(ctx, account, id)
		if found, e := notFoundOK(err); !found {
			if e != nil {
				return e
			}
			return errImportTaskNotFound(id)
		}
		if t.Status != ImportActive {
			return apiErr("IncorrectState", "The import task %s is %s and can no longer be cancelled.", id, t.Status)
		}
		prev = t.Status
		t.Status, t.StatusMessage = ImportDeleting, "cancelling: "+strings.TrimSpace(deref(in.CancelReason))
		return tx.UpdateImportTask(ctx, t)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CancelImportTaskResult{ImportTaskId: str(id), PreviousState: str(prev), State: str(ImportDeleting)}, nil
}
