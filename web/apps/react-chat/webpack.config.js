// webpack 5 build of the same app as Vite's: nothing in it is specific to convo. webpack turns
// the package's `new URL('./convo.wasm', import.meta.url)` into a hashed asset by itself.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

// Emits index.html with the bundle in place of Vite's module script (no html-webpack-plugin
// needed for one page).
class IndexHtml {
  apply(compiler) {
    compiler.hooks.thisCompilation.tap('IndexHtml', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'IndexHtml', stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_SUMMARIZE }, () => {
        const main = [...compilation.entrypoints.get('main').getFiles()].find((f) => f.endsWith('.js'));
        const html = readFileSync(here + 'index.html', 'utf8').replace(
          '<script type="module" src="/src/main.js"></script>',
          `<script defer src="${main}"></script>`,
        );
        compilation.emitAsset('index.html', new compiler.webpack.sources.RawSource(html));
      });
    });
  }
}

export default {
  mode: 'production',
  entry: './src/main.js',
  output: { path: here + 'dist-webpack', filename: '[name].[contenthash].js', clean: true },
  // convo.wasm is a few megabytes; webpack's default budget is for JavaScript.
  performance: { assetFilter: (name) => !name.endsWith('.wasm') },
  plugins: [new IndexHtml()],
};
