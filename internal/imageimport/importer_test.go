package imageimport

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/ec2"
	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// fileSource serves objects from a map of bucket/key to local files.
type fileSource struct {
	owner string
	files map[string]string
}

func (f fileSource) Open(_ context.Context, account, bucket, key string) (io.ReadCloser, int64, error) {
	if account != f.owner {
		return nil, 0, ErrSourceDenied
	}
	path, ok := f.files[bucket+"/"+key]
	if !ok {
		return nil, 0, ErrSourceMissing
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi, _ := file.Stat()
	return file, fi.Size(), nil
}

// memSnapshots keeps written snapshots in memory.
type memSnapshots struct {
	mu   sync.Mutex
	data map[string][]byte
}

func (m *memSnapshots) Write(_ context.Context, id string, r io.Reader, size int64, progress func(done, total int64)) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if int64(len(b)) != size {
		return errors.New("size mismatch")
	}
	progress(size, size)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[id] = b
	return nil
}

func needQemuImg(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img is not installed (apt-get install qemu-utils); the importer converts with it")
	}
}

const acct = "123456789012"

func setup(t *testing.T, b storetest.Backend) (*store.DB, *memSnapshots, string) {
	db := storetest.Open(t, b)
	storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return tx.InsertAccount(ctx, store.Account{ID: acct, Name: "a", CreatedAt: time.Now()})
	})
	return db, &memSnapshots{data: map[string][]byte{}}, t.TempDir()
}

func addTask(t *testing.T, db *store.DB, kind, format, key string) store.ImportTask {
	task := store.ImportTask{ID: "import-ami-0000000000000000" + string(rune('a'+len(key)%6)), AccountID: acct, Kind: kind, Status: ec2.ImportActive,
		Format: format, S3Bucket: "b", S3Key: key, SnapshotID: "snap-0123456789abcdef0", ImageID: "ami-0123456789abcdef0",
		Architecture: "x86_64", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.InsertImportTask(ctx, task) })
	return task
}

func getTask(t *testing.T, db *store.DB, id string) store.ImportTask {
	var task store.ImportTask
	err := db.View(context.Background(), func(ctx context.Context, tx *store.Tx) (err error) {
		task, err = tx.GetImportTask(ctx, acct, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func TestImportQCOW2MakesSnapshotAndImage(t *testing.T) {
	needQemuImg(t)
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db, snaps, dir := setup(t, b)
		raw := make([]byte, 3<<20+4096)
		_, _ = rand.Read(raw[:1<<20])
		copy(raw[2<<20:], "KUMO-DISK-CONTENT")
		rawPath, qcowPath := filepath.Join(dir, "d.raw"), filepath.Join(dir, "d.qcow2")
		if err := os.WriteFile(rawPath, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", rawPath, qcowPath).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img convert: %v %s", err, out)
		}
		task := addTask(t, db, ec2.ImportKindImage, "qcow2", "d.qcow2")
		im := &Importer{DB: db, Source: fileSource{acct, map[string]string{"b/d.qcow2": qcowPath}}, Images: qemuimg.Tool{},
			Snapshots: snaps, WorkDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := im.Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := getTask(t, db, task.ID)
		if got.Status != ec2.ImportCompleted || got.Progress != 100 {
			t.Fatalf("task ended %s (%s), want completed", got.Status, got.StatusMessage)
		}
		if !bytes.Equal(snaps.data[task.SnapshotID], raw) {
			t.Fatal("the snapshot does not hold the disk's bytes")
		}
		var img store.Image
		_ = db.View(context.Background(), func(ctx context.Context, tx *store.Tx) (err error) {
			img, err = tx.GetImage(ctx, task.ImageID)
			return err
		})
		if img.State != "available" || len(img.BlockDevices) != 1 || img.BlockDevices[0].SnapshotID != task.SnapshotID {
			t.Fatalf("image %+v", img)
		}
	})
}

func TestImportFailuresEndDeletedWithAReason(t *testing.T) {
	needQemuImg(t)
	db, snaps, dir := setup(t, storetest.Backends()[0])
	text := filepath.Join(dir, "notes.txt")
	_ = os.WriteFile(text, []byte(strings.Repeat("this is not a disk\n", 1000)), 0o600)
	trunc := filepath.Join(dir, "t.qcow2")
	_ = exec.Command("qemu-img", "create", "-f", "qcow2", trunc, "1G").Run()
	b, _ := os.ReadFile(trunc)
	_ = os.WriteFile(trunc, b[:100], 0o600)
	src := fileSource{acct, map[string]string{"b/notes.txt": text, "b/t.qcow2": trunc}}
	im := &Importer{DB: db, Source: src, Images: qemuimg.Tool{}, Snapshots: snaps, WorkDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cases := map[string]string{"notes.txt": "ClientError", "t.qcow2": "ClientError", "missing.raw": "does not exist"}
	for key, want := range cases {
		task := addTask(t, db, ec2.ImportKindSnapshot, "", key)
		task.ID = "import-snap-" + strings.ReplaceAll(key, ".", "")
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.InsertImportTask(ctx, task) })
		im.process(context.Background(), task)
		got := getTask(t, db, task.ID)
		if got.Status != ec2.ImportDeleted || !strings.Contains(got.StatusMessage, want) {
			t.Errorf("%s: ended %s %q, want deleted with %q", key, got.Status, got.StatusMessage, want)
		}
	}
	if len(snaps.data) != 0 {
		t.Errorf("failed imports wrote snapshots: %v", snaps.data)
	}
}

func TestCancelledTaskEndsDeleted(t *testing.T) {
	db, snaps, dir := setup(t, storetest.Backends()[0])
	task := addTask(t, db, ec2.ImportKindImage, "raw", "x.raw")
	storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		task.Status = ec2.ImportDeleting
		return tx.UpdateImportTask(ctx, task)
	})
	im := &Importer{DB: db, Source: fileSource{acct, nil}, Images: qemuimg.Tool{}, Snapshots: snaps, WorkDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := im.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := getTask(t, db, task.ID); got.Status != ec2.ImportDeleted {
		t.Fatalf("cancelled task is %s", got.Status)
	}
}
