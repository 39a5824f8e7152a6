// The interim-response group of http-tests/cache-tests (tests/interim.mjs), replayed against an
// edge where the suite's own client cannot run (it needs the `undici` package and a checkout).
// Same wire on both sides: the origin sends its 1xx with Node's writeProcessing/writeEarlyHints, as
// the suite's test-engine/server/handle-test.mjs does; the client collects 1xx heads from Node's
// `information` event; the same requests (Pragma and Cache-Control decoys, Req-Num), the same
// 3 s pause_after, the same assertions. How to run it: bench/cache_conformance.md, section 5.
//
// usage: node bench/cache_interim.mjs --base=http://127.0.0.1:18080 --origin-port=18000
import http from 'node:http'
import { randomUUID } from 'node:crypto'

const args = Object.fromEntries(process.argv.slice(2).map(a => a.replace(/^--/, '').split('=')))
const base = new URL(args.base || 'http://127.0.0.1:18080')
const originPort = parseInt(args['origin-port'] || '18000')
const pauseMs = parseInt(args['pause-ms'] || '3000')

const hints = [['link', '</styles.css>; rel=preload; as=style'], ['x-my-header', 'test']]
const fresh = [['Cache-Control', 'max-age=100000']]
const TESTS = [
  { id: 'interim-102', kind: 'optimal', interim: [[102]], first: { interim: [[102]] } },
  { id: 'interim-103', kind: 'optimal', interim: [[103, hints]], first: { interim: [[103, hints]] } },
  {
    id: 'interim-not-cached',
    kind: 'required',
    interim: [[103, hints.slice(0, 1)]],
    first: { interim: [[103, hints.slice(0, 1)]] },
    second: { interim: [] }
  },
  {
    id: 'interim-no-header-reuse',
    kind: 'optimal',
    interim: [[103, hints]],
    first: { interim: [[103, hints]], missing: ['x-my-header'] },
    second: { missing: ['x-my-header'] }
  }
]

// -- the origin: handle-test.mjs's interim and header handling for these tests --------------------
const served = new Map() // uuid -> requests the origin saw
const configs = new Map() // uuid -> test
const origin = http.createServer((req, res) => {
  const uuid = req.url.split('/')[2]
  const test = configs.get(uuid)
  const count = (served.get(uuid) || 0) + 1
  served.set(uuid, count)
  for (const [status, headers = []] of test.interim) {
    if (status === 102) res.writeProcessing()
    else res.writeEarlyHints(Object.fromEntries(headers))
  }
  res.setHeader('Server-Request-Count', count)
  res.setHeader('Client-Request-Count', req.headers['req-num'])
  for (const [name, value] of fresh) res.setHeader(name, value)
  res.setHeader('Date', new Date().toUTCString())
  res.setHeader('Content-Type', 'text/plain')
  res.end(uuid)
})

// -- the client ----------------------------------------------------------------------------------
function fetchWithInterims (path, reqNum) {
  return new Promise((resolve, reject) => {
    const interims = []
    const req = http.request({
      host: base.hostname,
      port: base.port,
      path,
      headers: { Pragma: 'foo', 'Cache-Control': 'nothing-to-see-here', 'Req-Num': String(reqNum) }
    })
    req.on('information', info => interims.push([info.statusCode, info.headers]))
    req.on('response', res => {
      let body = ''
      res.setEncoding('latin1')
      res.on('data', chunk => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body, interims }))
    })
    req.on('error', reject)
    req.setTimeout(10000, () => req.destroy(new Error('timeout')))
    req.end()
  })
}

function check (test, expect, response, reqNum, uuid) {
  const problems = []
  if (response.status !== 200) problems.push(`response ${reqNum} status ${response.status}`)
  if (response.body !== uuid) problems.push(`response ${reqNum} body "${response.body}"`)
  const resNum = parseInt(response.headers['server-request-count'])
  if (reqNum === 2 && !(resNum < reqNum)) problems.push('response 2 does not come from cache')
  for (const [index, [status, headers = []]] of (expect.interim || []).entries()) {
    const got = response.interims[index]
    if (!got) { problems.push(`interim response ${index + 1} not received`); continue }
    if (got[0] !== status) problems.push(`interim response ${index + 1} status ${got[0]}, not ${status}`)
    for (const [name, value] of headers) {
      if (got[1][name] !== value) problems.push(`interim ${index + 1} ${name} is ${got[1][name]}, not ${value}`)
    }
  }
  for (const name of expect.missing || []) {
    if (name in response.headers) problems.push(`response ${reqNum} has ${name}`)
  }
  return problems
}

const results = {}
await new Promise(resolve => origin.listen(originPort, '127.0.0.1', resolve))
for (const test of TESTS) {
  const uuid = randomUUID()
  configs.set(uuid, test)
  const path = `/test/${uuid}`
  const problems = []
  try {
    const first = await fetchWithInterims(path, 1)
    problems.push(...check(test, test.first, first, 1, uuid))
    await new Promise(resolve => setTimeout(resolve, pauseMs))
    const second = await fetchWithInterims(path, 2)
    problems.push(...check(test, test.second || {}, second, 2, uuid))
    if (second.interims.length) problems.push(`response 2 (a hit) had ${second.interims.length} interim responses`)
  } catch (err) {
    problems.push(String(err))
  }
  results[test.id] = problems.length ? problems : true
  console.log(`${test.kind}\t${problems.length ? 'fail' : 'pass'}\t${test.id}\t${problems.join('; ')}`)
}
origin.close()
console.log(JSON.stringify(results))
process.exit(Object.values(results).every(r => r === true) ? 0 : 1)
