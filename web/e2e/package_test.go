package e2e

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassicScriptBuildSetsGlobals(t *testing.T) {
	env := startServer(t)
	browser := NewBrowser(t, 60*time.Second)
	tab := browser.NewTab("classic")
	tab.Navigate(env.HTTPURL + "/sdk/README.md") // any page of the origin; nothing else loaded
	type result struct {
		SameClass    bool   `json:"sameClass"`
		Identity     string `json:"identity"`
		Conversation string `json:"conversation"`
	}
	got := MustEval[result](tab, `
		const s = document.createElement('script');
		s.src = '/sdk/convo.js';
		const loaded = new Promise((resolve, reject) => { s.onload = resolve; s.onerror = reject; });
		document.head.append(s);
		await loaded;
		if (typeof Convo !== 'object' || !(Convo.ready instanceof Promise)) throw new Error('no Convo.ready after the script ran');
		await Convo.ready;
		const client = new Convo.Client(`+jsString(env.Token("dora", time.Hour))+`);
		await new Promise((resolve) => client.onWithReplay('initialized', resolve));
		const c = await client.createConversation({ friendlyName: 'classic' });
		return { sameClass: Twilio.Conversations.Client === Convo.Client && client instanceof Convo.Client,
			identity: client.user.identity, conversation: c.friendlyName };`)
	assert.Equal(t, result{SameClass: true, Identity: "dora", Conversation: "classic"}, got)
}

// TestPackedTarballWorksInChromium installs the package the way npm would (the npm pack
// tarball, unpacked) and serves only that to the page.
func TestPackedTarballWorksInChromium(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("npm is needed to pack the package")
	}
	tmp := t.TempDir()
	pack := exec.Command("npm", "pack", "--silent", "--pack-destination", tmp)
	pack.Dir = filepath.Join(dist, "sdk")
	out, err := pack.Output()
	require.NoError(t, err, "npm pack")
	tarball := filepath.Join(tmp, strings.TrimSpace(string(out)))

	site := filepath.Join(tmp, "site")
	require.NoError(t, untarPackage(tarball, filepath.Join(site, "node_modules", "@convo-sdk", "conversations")))
	require.NoError(t, os.WriteFile(filepath.Join(site, "index.html"), []byte(`<!doctype html><title>app</title>`), 0o644))

	env := servertest.Start(t, servertest.Options{Static: os.DirFS(site)})
	browser := NewBrowser(t, 60*time.Second)
	tab := browser.NewTab("installed")
	tab.Navigate(env.HTTPURL + "/")
	index := MustEval[int](tab, `
		const { Client } = await import('/node_modules/@convo-sdk/conversations/index.js');
		const client = new Client(`+jsString(env.Token("erin", time.Hour))+`);
		await new Promise((resolve) => client.onWithReplay('initialized', resolve));
		const c = await client.createConversation();
		await c.join();
		await c.sendMessage('from the installed package');
		return await c.sendMessage('second');`)
	assert.Equal(t, 1, index)
}

// untarPackage extracts an npm tarball's package/ folder into dir.
func untarPackage(tarball, dir string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name, ok := strings.CutPrefix(h.Name, "package/")
		if !ok || h.Typeflag != tar.TypeReg || strings.Contains(name, "..") {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		w, err := os.Create(path)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, tr); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}
