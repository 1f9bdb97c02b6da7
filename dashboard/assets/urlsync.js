/* The controls -> the URL's query string (dashboard/components/urlsync.py reads it back).
 *
 * A change made in the controls pushes a history entry, so back and forward step through
 * views. The URL's own values being applied, or a link without them (a page of the
 * navigation bar), replace the entry instead: pushing there would trap the back button.
 * The "url" Location is told of each change; it compares its props with the address
 * on back/forward, and stale props would hide the step. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    finsent: {
        syncUrl: function (preset, start, end, step, topics, tickers, sources, sentiment,
                           tz, compare, sectors, events, _search, _applied) {
            const dc = window.dash_clientside;
            const keys = ['range', 'from', 'to', 'step', 'topics', 'tickers', 'sources',
                          'sentiment', 'tz', 'compare', 'sectors', 'events'];
            const triggered = (dc.callback_context.triggered || []).map(t => t.prop_id);
            const params = new URLSearchParams(window.location.search);
            const had = keys.some(k => params.has(k));
            keys.forEach(k => params.delete(k));
            params.set('range', preset || '24h');
            if (preset === 'custom') {
                if (start) params.set('from', String(start).slice(0, 10));
                if (end) params.set('to', String(end).slice(0, 10));
            }
            if (step && step !== 'auto') params.set('step', String(step));
            const list = (key, values) => {
                if (values && values.length) params.set(key, values.join(','));
            };
            list('topics', topics);
            list('tickers', tickers);
            list('sources', sources);
            list('sentiment', sentiment);
            list('sectors', sectors);
            list('events', events);
            if (tz && tz !== 'UTC') params.set('tz', tz);
            if (compare && compare.length) params.set('compare', '1');
            const next = '?' + params.toString();
            if (next === window.location.search) return dc.no_update;
            const fromUrl = triggered.some(t => t.startsWith('url-applied.'));
            const byControl = triggered.some(
                t => t !== '.' && !t.startsWith('url.') && !t.startsWith('url-applied.'));
            // the address carries a view that is still on its way into the controls
            if (had && !fromUrl && !byControl) return dc.no_update;
            const href = window.location.pathname + next + window.location.hash;
            if (fromUrl || !had) window.history.replaceState(null, '', href);
            else window.history.pushState(null, '', href);
            dc.set_props('url', {search: next, href: window.location.href});
            return dc.no_update;
        },
    },
});
