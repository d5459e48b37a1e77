import {useEffect, useState} from 'react';
import clsx from 'clsx';
import Link from '@docusaurus/Link';
import useDocusaurusContext from '@docusaurus/useDocusaurusContext';
import Layout from '@theme/Layout';
import HomepageFeatures from '@site/src/components/HomepageFeatures';

import Heading from '@theme/Heading';
import styles from './index.module.css';
// Build variant colour (src/css/variant-v1.css or variant-v2.css, see src/plugins/app-version.js)
import '@app-variant-css';

function HomepageHeader() {
  const {siteConfig} = useDocusaurusContext();
  return (
    <header className={clsx('hero hero--primary', styles.heroBanner)}>
      <div className="container">
        <Heading as="h1" className="hero__title">
          {siteConfig.title}
        </Heading>
        <p className="hero__subtitle">{siteConfig.tagline}</p>
        <div className={styles.buttons}>
          <Link
            className="button button--secondary button--lg"
            to="/docs/intro">
            Docusaurus Tutorial - 5min ⏱️
          </Link>
        </div>
      </div>
    </header>
  );
}

function Contract() {
  const [Lazy, setLazy] = useState(null);

  useEffect(() => {
    document.documentElement.setAttribute('data-hydrated', 'true');
  }, []);

  async function loadLazy() {
    const mod = await import('@site/src/components/LazyResult');
    setLazy(() => mod.default);
  }

  return (
    <section className="container margin-vert--lg text--center">
      <p>
        Version: <span id="app-version" className="app-version">{__APP_VERSION__}</span>
      </p>
      <p>
        <button
          id="load-lazy"
          type="button"
          className="button button--primary"
          onClick={loadLazy}>
          Load lazy module
        </button>
      </p>
      {Lazy && <Lazy />}
      <p>
        <Link id="nav-link" to="/about">
          About this site
        </Link>
      </p>
    </section>
  );
}

export default function Home() {
  const {siteConfig} = useDocusaurusContext();
  return (
    <Layout
      title={`Hello from ${siteConfig.title}`}
      description="Description will go into a meta tag in <head />">
      <HomepageHeader />
      <main>
        <Contract />
        <HomepageFeatures />
      </main>
    </Layout>
  );
}
