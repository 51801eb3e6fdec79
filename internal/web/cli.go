package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ordergate/ordergate/internal/store"
)

const userUsage = `usage:
  ordergate user add NAME --role admin|approver|desk [--approval-roles R1,R2]
                                                       (password read from stdin)
  ordergate user passwd NAME                           (password read from stdin)
  ordergate user role NAME --role admin|approver|desk
  ordergate user roles NAME --approval-roles R1,R2     ("" for none)
  ordergate user disable NAME
  ordergate user enable NAME
  ordergate user list [--json]

The password is the first line of standard input (pipe it in, or type it
when asked); it is never taken from the command line. Passwords have at
least 12 characters.

The role says which screens a user sees; the approval roles say which
holds the user clears, in the rules' role names (approver, sales-manager,
finance, sales-rep, ...). An admin may override any hold.
`

// UserCommand runs "ordergate user ...": args start after "user". It
// returns the exit status: 0 done, 1 failed, 2 usage. Every change is
// written to the audit log with the actor "cli".
func UserCommand(ctx context.Context, st *store.Store, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, userUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, userUsage) }
	role := fs.String("role", "", "the user's role: admin, approver or desk")
	asJSON := fs.Bool("json", false, "list as JSON")
	approvalRoles := fs.String("approval-roles", "", "the rules' roles the user decides held orders in, comma-separated")
	// Flags may come before or after NAME.
	var positional []string
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	audit := func(action, object string, detail map[string]any) {
		detail["via"] = "cli"
		b, _ := json.Marshal(detail)
		if _, err := st.AppendAudit(ctx, store.AuditInput{Actor: "cli", Action: action, Object: object, Detail: b}); err != nil {
			fmt.Fprintf(stderr, "ordergate user %s: writing the audit log: %v\n", sub, err)
		}
	}
	needName := func() (string, bool) {
		if len(positional) != 1 {
			fmt.Fprintf(stderr, "ordergate user %s: want exactly one NAME\n%s", sub, userUsage)
			return "", false
		}
		if !ValidUserName(positional[0]) {
			fmt.Fprintf(stderr, "ordergate user %s: %q is not a valid user name (1 to 64 letters, digits, '.', '_', '@', '-')\n", sub, positional[0])
			return "", false
		}
		return positional[0], true
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "ordergate user %s: %v\n", sub, err)
		return 1
	}
	switch sub {
	case "add":
		name, ok := needName()
		if !ok {
			return 2
		}
		if !ValidRole(*role) {
			fmt.Fprintf(stderr, "ordergate user add: --role must be one of %s\n", strings.Join(Roles, ", "))
			return 2
		}
		hash, err := readPassword(stdin, stderr)
		if err != nil {
			return fail(err)
		}
		if _, err := st.CreateUser(ctx, name, *role, hash); err != nil {
			if errors.Is(err, store.ErrUserExists) {
				return fail(fmt.Errorf("user %q exists", name))
			}
			return fail(err)
		}
		roles := splitList(*approvalRoles)
		if len(roles) > 0 {
			if err := st.SetUserApprovalRoles(ctx, name, roles); err != nil {
				return fail(err)
			}
		}
		audit("user.create", name, map[string]any{"role": *role, "approval_roles": roles})
		fmt.Fprintf(stdout, "user %s added with role %s", name, *role)
		if len(roles) > 0 {
			fmt.Fprintf(stdout, ", approval roles %s", strings.Join(roles, ", "))
		}
		fmt.Fprintln(stdout)
	case "passwd":
		name, ok := needName()
		if !ok {
			return 2
		}
		if _, err := st.GetUser(ctx, name); err != nil {
			return fail(err)
		}
		hash, err := readPassword(stdin, stderr)
		if err != nil {
			return fail(err)
		}
		if err := st.SetUserPassword(ctx, name, hash); err != nil {
			return fail(err)
		}
		audit("user.passwd", name, map[string]any{})
		fmt.Fprintf(stdout, "password of %s changed; the user's sessions ended\n", name)
	case "role":
		name, ok := needName()
		if !ok {
			return 2
		}
		if !ValidRole(*role) {
			fmt.Fprintf(stderr, "ordergate user role: --role must be one of %s\n", strings.Join(Roles, ", "))
			return 2
		}
		if err := st.SetUserRole(ctx, name, *role); err != nil {
			return fail(err)
		}
		audit("user.role", name, map[string]any{"role": *role})
		fmt.Fprintf(stdout, "user %s now has role %s\n", name, *role)
	case "roles":
		name, ok := needName()
		if !ok {
			return 2
		}
		roles := splitList(*approvalRoles)
		if err := st.SetUserApprovalRoles(ctx, name, roles); err != nil {
			return fail(err)
		}
		audit("user.roles", name, map[string]any{"approval_roles": roles})
		fmt.Fprintf(stdout, "user %s now decides in the approval roles: %s\n", name, orNone(strings.Join(roles, ", ")))
	case "disable", "enable":
		name, ok := needName()
		if !ok {
			return 2
		}
		if err := st.SetUserDisabled(ctx, name, sub == "disable"); err != nil {
			return fail(err)
		}
		audit("user."+sub, name, map[string]any{})
		fmt.Fprintf(stdout, "user %s %sd\n", name, sub)
	case "list":
		if len(positional) != 0 {
			fmt.Fprint(stderr, userUsage)
			return 2
		}
		users, err := st.ListUsers(ctx)
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			type row struct {
				Name          string    `json:"name"`
				Role          string    `json:"role"`
				Disabled      bool      `json:"disabled"`
				CreatedAt     time.Time `json:"created_at"`
				ApprovalRoles []string  `json:"approval_roles"`
			}
			enc := json.NewEncoder(stdout)
			for _, u := range users {
				if err := enc.Encode(row{u.Name, u.Role, u.Disabled, u.CreatedAt, append([]string{}, u.ApprovalRoles...)}); err != nil {
					return fail(err)
				}
			}
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tAPPROVAL ROLES\tSTATE\tCREATED")
		for _, u := range users {
			state := "active"
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, orNone(strings.Join(u.ApprovalRoles, ",")), state, u.CreatedAt.Format(time.RFC3339))
		}
		tw.Flush()
	default:
		fmt.Fprintf(stderr, "ordergate user: unknown command %q\n%s", sub, userUsage)
		return 2
	}
	return 0
}

// readPassword reads the first line of stdin and returns its argon2id
// hash.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	fmt.Fprint(stderr, "password (first line of stdin): ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	fmt.Fprintln(stderr)
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if err := checkNewPassword(pw); err != nil {
		return "", errors.New(strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
	}
	return HashPassword(pw)
}

// splitList reads a comma-separated flag value; "" is none.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
