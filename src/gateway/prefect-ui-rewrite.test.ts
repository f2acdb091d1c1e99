// Moving the Prefect UI's files under a prefix: exactly the places its base path is written, in the
// forms Prefect 3.9.1's bundles use (index.html, a style sheet, Vite's module preloader), and
// nothing else that looks alike (API paths, other sites, protocol-relative URLs).
import { describe, expect, it } from 'vitest';
import { rewriteUiFile, uiBaseFor, uiFileKind } from './prefect-ui-rewrite.js';

const P = '/w/acme/prod';

describe('rewriteUiFile', () => {
  it("prefixes the page's own script, style and icon addresses, and leaves other sites alone", () => {
    const html = '<link rel="icon" href="/v2/ico/a.png"><script type="module" crossorigin src="/v2/assets/i.js"></script><a href="//cdn.example/x">c</a><a href=\'/v2/x\'>y</a><a href="https://prefect.io/v2/z">d</a>';
    expect(rewriteUiFile('html', html, '/v2', P)).toBe(
      `<link rel="icon" href="${P}/v2/ico/a.png"><script type="module" crossorigin src="${P}/v2/assets/i.js"></script><a href="//cdn.example/x">c</a><a href='${P}/v2/x'>y</a><a href="https://prefect.io/v2/z">d</a>`,
    );
  });

  it("prefixes url(...) in style sheets, quoted or not", () => {
    expect(rewriteUiFile('css', 'a{b:url(/v2/x.svg)}c{src:url("/v2/f.ttf")}d{e:url(//cdn/x)}', '/v2', P)).toBe(
      `a{b:url(${P}/v2/x.svg)}c{src:url("${P}/v2/f.ttf")}d{e:url(//cdn/x)}`,
    );
  });

  it("prefixes Vite's module preloader and nothing else in a script (API paths keep /v2)", () => {
    const js = 'var i=`modulepreload`,a=function(e){return`/v2/`+e},o={};x.POST(`/v2/concurrency_limits/filter`);let t=Ae(e?.appBasePath??`/v2`);return"/v2/"+e';
    expect(rewriteUiFile('js', js, '/v2', P)).toBe(
      `var i=\`modulepreload\`,a=function(e){return\`${P}/v2/\`+e},o={};x.POST(\`/v2/concurrency_limits/filter\`);let t=Ae(e?.appBasePath??\`/v2\`);return"${P}/v2/"+e`,
    );
  });

  it('handles the first UI, written for the root', () => {
    expect(rewriteUiFile('html', '<script src="/assets/i.js"></script>', '', P)).toBe(`<script src="${P}/assets/i.js"></script>`);
    expect(rewriteUiFile('js', 'function(e){return`/`+e}', '', P)).toBe(`function(e){return\`${P}/\`+e}`);
  });
});

describe('uiFileKind and uiBaseFor', () => {
  it('knows the files that name the base path by their type', () => {
    expect(uiFileKind('text/html; charset=utf-8')).toBe('html');
    expect(uiFileKind('text/css')).toBe('css');
    expect(uiFileKind('text/javascript; charset=utf-8')).toBe('js');
    expect(uiFileKind('application/javascript')).toBe('js');
    expect(uiFileKind('image/svg+xml')).toBeNull();
    expect(uiFileKind(undefined)).toBeNull();
  });

  it("reads the base from the file's path", () => {
    expect(uiBaseFor('/v2/assets/i.js')).toBe('/v2');
    expect(uiBaseFor('/v2')).toBe('/v2');
    expect(uiBaseFor('/v2x/a')).toBe('');
    expect(uiBaseFor('/assets/i.js')).toBe('');
  });
});
