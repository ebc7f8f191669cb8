import * as vega from 'vega';
import * as vl from 'vega-lite';
const spec = { $schema:'https://vega.github.io/schema/vega-lite/v6.json', width: 600, height: 200,
 data:{values:[{x:'a',y:0.3,lo:0.2,hi:0.4},{x:'b',y:0.6,lo:0.5,hi:0.7}]},
 layer:[{mark:'bar',encoding:{x:{field:'x',type:'nominal'},y:{field:'y',type:'quantitative'}, tooltip:[{field:'y'}]}},
        {mark:'rule',encoding:{x:{field:'x',type:'nominal'},y:{field:'lo',type:'quantitative'},y2:{field:'hi'}}}]};
const t0=performance.now();
const v = vl.compile(spec).spec;
const view = new vega.View(vega.parse(v), {renderer:'none'});
view.run();
const sg = view.scenegraph().root;
const r = new vega.SVGStringRenderer ? 'has SVGStringRenderer' : 'no';
console.log(r, Object.keys(vega).filter(k=>/Render|render/.test(k)));
const svg = await view.toSVG();
console.log(svg.length, performance.now()-t0);
const svg2 = await new vega.View(vega.parse(v), {renderer:'none'}).toSVG();
console.log(svg);
