package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/internal/web"
)

// TestTasksPage: a user sees the open tasks that are theirs (an admin
// all), with the order link and the note; marking one done takes it off
// the list and is audited; another's task, an unknown one and a
// cross-site post are refused.
func TestTasksPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bertTask := e.svc.AddTask(web.Task{OrderID: "ord_T1", CustomerID: "C-1001", Assignee: "Bert Brandt", Email: "bert@example.com",
		Text: "Please call before delivery", Wait: true})
	otherTask := e.svc.AddTask(web.Task{OrderID: "ord_T2", CustomerID: "C-2000", Assignee: "Anna Berg", Email: "anna.berg@example.com",
		Text: "Deliver to gate <B>"})
	admin, bert, dora := e.session("alice"), e.session("bert"), e.session("dora")

	for _, tc := range []struct {
		who        string
		cookie     *http.Cookie
		want, lack []string
	}{
		{"alice", admin, []string{`href="/orders/ord_T1"`, "Please call before delivery", "waits", "Deliver to gate &lt;B&gt;",
			`action="/tasks/` + bertTask + `/done"`, `href="/tasks"`}, nil},
		{"bert", bert, []string{"Please call before delivery", `action="/tasks/` + bertTask + `/done"`}, []string{"Deliver to gate"}},
		{"dora", dora, []string{`id="no-tasks"`}, []string{"Please call", "Deliver to gate"}},
	} {
		status, _, body := e.do("GET", "/tasks", tc.cookie, nil, nil)
		if status != http.StatusOK {
			t.Fatalf("GET /tasks as %s: %d", tc.who, status)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET /tasks as %s: body lacks %q", tc.who, w)
			}
		}
		for _, l := range tc.lack {
			if strings.Contains(body, l) {
				t.Errorf("GET /tasks as %s: body shows %q", tc.who, l)
			}
		}
	}

	if s, _, _ := e.do("POST", "/tasks/"+otherTask+"/done", bert, nil, nil); s != http.StatusNotFound {
		t.Errorf("bert marks Anna's task done: %d, want 404", s)
	}
	if s, _, _ := e.do("POST", "/tasks/task_nope/done", admin, nil, nil); s != http.StatusNotFound {
		t.Errorf("unknown task: %d, want 404", s)
	}
	crossSite := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	if s, _, _ := e.do("POST", "/tasks/"+bertTask+"/done", bert, nil, crossSite); s != http.StatusForbidden {
		t.Errorf("cross-site post: %d, want 403", s)
	}
	e.do("POST", "/tasks/"+bertTask+"/done", nil, nil, nil)
	if !strings.Contains(e.svc.TaskIDs(), bertTask) {
		t.Fatalf("a post without a session marked the task done")
	}
	status, loc, _ := e.do("POST", "/tasks/"+bertTask+"/done", bert, nil, nil)
	if status != http.StatusSeeOther || loc != "/tasks?notice=taskdone" {
		t.Fatalf("bert marks his task done: %d %q, want 303 to /tasks?notice=taskdone", status, loc)
	}
	if _, _, body := e.do("GET", "/tasks?notice=taskdone", bert, nil, nil); !strings.Contains(body, "Task done.") || strings.Contains(body, "Please call") {
		t.Errorf("after done, the page still lists the task or lacks the notice")
	}
	if !slices.Contains(e.auditActions(t), "bert task.done "+bertTask) {
		t.Errorf("audit %v has no task.done", e.auditActions(t))
	}
}
