// Local plugin for the assetpub fixture. Reads APP_VERSION (1 = default, or 2) at build time:
//  - defines __APP_VERSION__ ('v1' | 'v2') for client code (homepage + lazy chunk);
//  - aliases '@app-variant-css' to src/css/variant-v1.css or variant-v2.css (one colour),
//    imported by the homepage, so the variant stays out of siteConfig and main.js.
import path from 'path';

export default function appVersionPlugin(context) {
  const version = process.env.APP_VERSION === '2' ? 'v2' : 'v1';
  return {
    name: 'app-version',
    configureWebpack(_config, _isServer, {currentBundler}) {
      return {
        resolve: {
          alias: {
            '@app-variant-css$': path.join(context.siteDir, `src/css/variant-${version}.css`),
          },
        },
        plugins: [
          new currentBundler.instance.DefinePlugin({
            __APP_VERSION__: JSON.stringify(version),
          }),
        ],
      };
    },
  };
}
