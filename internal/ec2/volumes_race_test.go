package ec2_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestVolumeRaces: volumes created at once get distinct ids, and of
// concurrent attachments of one volume to several instances exactly one
// wins (one volume never has two writers unless multi-attach).
func TestVolumeRaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 32, 65536)
		a := srv.NewAccount(t, "a")
		c := a.EC2

		const n = 12
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				out, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("kumo-1a"), Size: aws.Int32(1)})
				if err != nil {
					t.Errorf("CreateVolume %d: %v", i, err)
					return
				}
				ids[i] = aws.ToString(out.VolumeId)
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, id := range ids {
			if id == "" || seen[id] {
				t.Fatalf("ids of concurrent creations: %v", ids)
			}
			seen[id] = true
		}

		out := run(t, c, &ec2.RunInstancesInput{ImageId: &img, MinCount: aws.Int32(4), MaxCount: aws.Int32(4),
			Placement: &types.Placement{AvailabilityZone: aws.String("kumo-1a")}})
		vol := ids[0]
		wins := make(chan string, len(out.Instances))
		for _, inst := range out.Instances {
			id := aws.ToString(inst.InstanceId)
			observe(t, srv, a.ID, id, "running", "running")
			wg.Go(func() {
				_, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: &vol, InstanceId: &id, Device: aws.String("/dev/sdf")})
				switch errCode(err) {
				case "":
					wins <- id
				case "VolumeInUse":
				default:
					t.Errorf("AttachVolume to %s: %v", id, err)
				}
			})
		}
		wg.Wait()
		close(wins)
		var winners []string
		for w := range wins {
			winners = append(winners, w)
		}
		v := describeVolume(t, c, vol)
		if len(winners) != 1 || len(v.Attachments) != 1 || aws.ToString(v.Attachments[0].InstanceId) != winners[0] {
			t.Errorf("concurrent attachments: winners %v, attachments %+v", winners, v.Attachments)
		}
	})
}
