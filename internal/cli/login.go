package cli

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kumo-cloud/kumo/internal/ldaplogin"
)

type loginFlags struct {
	endpoint, role, profile, user, caFile string
	credentialProcess                     bool
	passwordFD, durationSeconds           int
}

func newLoginCmd() *cobra.Command {
	f := loginFlags{passwordFD: -1}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in with your directory (LDAP/AD) account and get temporary AWS credentials",
		Long: "Asks for your directory user name and password, and writes temporary credentials for the role your groups map to\n" +
			"into a profile of ~/.aws/credentials, or prints them as credential_process JSON for ~/.aws/config:\n" +
			"  [profile kumo]\n  credential_process = kumo login --endpoint https://cloud.example:8773 --credential-process --user alice",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.endpoint, "endpoint", os.Getenv("KUMO_ENDPOINT"), "Kumo API endpoint (https://host:8773; $KUMO_ENDPOINT)")
	fs.StringVar(&f.role, "role", "", "role ARN to assume when your groups map to several")
	fs.StringVar(&f.profile, "profile", "default", "profile to write in ~/.aws/credentials ($AWS_SHARED_CREDENTIALS_FILE)")
	fs.BoolVar(&f.credentialProcess, "credential-process", false, "print credential_process JSON instead of writing a profile")
	fs.StringVar(&f.user, "user", "", "directory user name (asked on the terminal when empty)")
	fs.IntVar(&f.passwordFD, "password-fd", -1, "read the password from this file descriptor instead of the terminal")
	fs.IntVar(&f.durationSeconds, "duration-seconds", 0, "session length (capped by the server; default the server's cap)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM CA bundle for an https endpoint with a private CA")
	return cmd
}

func (f *loginFlags) run(cmd *cobra.Command) error {
	if f.endpoint == "" {
		return errors.New("--endpoint is required (or $KUMO_ENDPOINT)")
	}
	if _, err := ldaplogin.CheckEndpoint(f.endpoint); err != nil {
		return err
	}
	client, err := f.httpClient()
	if err != nil {
		return err
	}
	tty := openTTY()
	if tty != nil {
		defer tty.Close()
	}
	user, password, err := f.credentials(tty)
	if err != nil {
		return err
	}
	req := ldaplogin.Request{User: user, Password: password, Role: f.role, DurationSeconds: f.durationSeconds}
	resp, err := ldaplogin.RequestLogin(cmd.Context(), client, f.endpoint, req)
	var e *ldaplogin.Error
	if errors.As(err, &e) && e.Code == "RoleChoiceRequired" {
		if req.Role, err = chooseRole(tty, e.Roles); err != nil {
			return err
		}
		resp, err = ldaplogin.RequestLogin(cmd.Context(), client, f.endpoint, req)
	}
	if err != nil {
		return err
	}
	return f.output(cmd.OutOrStdout(), cmd.ErrOrStderr(), resp)
}

func (f *loginFlags) output(stdout, stderr io.Writer, resp ldaplogin.Response) error {
	if f.credentialProcess {
		b, err := ldaplogin.ProcessOutput(resp)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	path, err := ldaplogin.CredentialsFile()
	if err != nil {
		return err
	}
	if err := ldaplogin.WriteProfile(path, f.profile, resp); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: profile %q in %s, valid until %s\n", resp.RoleArn, f.profile, path, resp.Expiration.Local().Format(time.RFC1123))
	return nil
}

func (f *loginFlags) httpClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s: no PEM certificate", f.caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: time.Minute}, nil
}

// openTTY opens the controlling terminal: prompts must reach the user even
// when stdout is captured (credential_process).
func openTTY() *os.File {
	t, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil
	}
	return t
}

func (f *loginFlags) credentials(tty *os.File) (user, password string, err error) {
	user = f.user
	if user == "" {
		if tty == nil {
			return "", "", errors.New("no terminal to ask for the user name: pass --user")
		}
		fmt.Fprint(tty, "User: ")
		line, err := bufio.NewReader(tty).ReadString('\n')
		if err != nil {
			return "", "", fmt.Errorf("read user name: %w", err)
		}
		user = strings.TrimSpace(line)
	}
	if f.passwordFD >= 0 {
		pf := os.NewFile(uintptr(f.passwordFD), "password-fd")
		if pf == nil {
			return "", "", fmt.Errorf("--password-fd %d: not an open file descriptor", f.passwordFD)
		}
		defer pf.Close()
		b, err := io.ReadAll(io.LimitReader(pf, 4096))
		if err != nil {
			return "", "", fmt.Errorf("--password-fd %d: %w", f.passwordFD, err)
		}
		return user, strings.TrimRight(string(b), "\r\n"), nil
	}
	if tty == nil {
		return "", "", errors.New("no terminal to ask for the password: pass --password-fd N")
	}
	fmt.Fprintf(tty, "Password for %s: ", user)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return "", "", fmt.Errorf("read password: %w", err)
	}
	return user, string(b), nil
}

func chooseRole(tty *os.File, roles []string) (string, error) {
	if tty == nil {
		return "", fmt.Errorf("your groups map to several roles; pick one with --role: %s", strings.Join(roles, ", "))
	}
	for i, r := range roles {
		fmt.Fprintf(tty, "  %d) %s\n", i+1, r)
	}
	fmt.Fprint(tty, "Role: ")
	line, err := bufio.NewReader(tty).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read role choice: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || n < 1 || n > len(roles) {
		return "", fmt.Errorf("role choice %q: want a number from 1 to %d", strings.TrimSpace(line), len(roles))
	}
	return roles[n-1], nil
}
