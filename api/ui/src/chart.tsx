/**
 * Charts and the circulation graph, drawn by Apache ECharts (only the parts used, SVG output). Each
 * chart has a text label for screen readers; the pages show the same numbers in a table too.
 */
import { useEffect, useRef } from "preact/hooks";
import * as echarts from "echarts/core";
import { BarChart, CustomChart, GaugeChart, GraphChart, LineChart } from "echarts/charts";
import { AriaComponent, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([BarChart, CustomChart, GaugeChart, GraphChart, LineChart, AriaComponent, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, SVGRenderer]);

export type ChartOption = echarts.EChartsCoreOption;

/** The page's font, named so that the charts measure their labels with the font they are drawn in. */
const FONT = 'system-ui, "Noto Sans", "DejaVu Sans", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';

/** Colours with enough contrast on white, one per series. */
export const PALETTE = ["#1d4ed8", "#b91c1c", "#047857", "#7c3aed", "#b45309", "#0e7490", "#be185d", "#4d7c0f"];

/** A chart: `option` as ECharts takes it, `label` what it shows in words; `onClick` gets the clicked item's data. */
export function Chart(props: { option: ChartOption; label: string; height?: number; onClick?: (params: { dataType?: string; data: unknown }) => void; testId?: string }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | undefined>(undefined);
  useEffect(() => {
    const c = echarts.init(el.current!, undefined, { renderer: "svg" });
    chart.current = c;
    const resize = () => c.resize();
    addEventListener("resize", resize);
    return () => {
      removeEventListener("resize", resize);
      c.dispose();
    };
  }, []);
  useEffect(() => {
    chart.current!.setOption({ color: PALETTE, animation: false, textStyle: { fontFamily: FONT }, ...props.option }, true);
  }, [props.option]);
  useEffect(() => {
    const c = chart.current!;
    if (!props.onClick) return;
    const handler = (p: unknown) => props.onClick!(p as { dataType?: string; data: unknown });
    c.on("click", handler);
    return () => c.off("click", handler);
  }, [props.onClick]);
  return <div class="chart" ref={el} role="img" aria-label={props.label} data-testid={props.testId} style={{ height: `${props.height ?? 260}px` }} />;
}
