// `npm run lab`: the whole self-healing chain on one machine. Not built yet (issue: the lab); say so plainly.
console.error(
  [
    'torchain lab: not built yet.',
    'The embedded lab (a real 3-hop OpenVPN/WireGuard chain in network namespaces, healed by the operator) is being built;',
    'until it lands, `npm test` runs everything that exists. See README.md.',
  ].join('\n'),
);
process.exit(2);
