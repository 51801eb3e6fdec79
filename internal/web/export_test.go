package web

// LowerHashCostForTests makes new password hashes cheap, so that tests
// under the race detector stay fast. Verification still reads the cost
// from each hash.
func LowerHashCostForTests() {
	defaultArgon = argonParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}
